"""--dataset FILE: a CSV or .npz file read, checked and mapped to classes before any training."""

from __future__ import annotations

import numpy as np
import pytest

from mlp_tui.cli.args import parse_args
from mlp_tui.cli.main import main
from mlp_tui.core.config import ConfigError, ExperimentConfig, validate
from mlp_tui.core.userdata import DataError, read_data
from mlp_tui.engine.data import load_dataset


def write(path, text: str):
    path.write_text(text)
    return str(path)


def test_csv_labels_of_any_type_become_sorted_classes(tmp_path):
    f = write(tmp_path / "d.csv", "a,kind,b\n1,cat,2\n3,ant,4\n5,bee,6\n7,ant,8\n")
    data = read_data(f, "kind")
    assert data.classes == ("ant", "bee", "cat")
    assert data.y.tolist() == [2, 0, 1, 0]
    assert data.x.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert data.features == ("a", "b")
    assert data.shape == (4, 2, 3)


def test_cells_numpy_refuses_but_python_reads(tmp_path):
    f = write(tmp_path / "d.csv", "a,y\n1_000,x\n 2 ,y\n")
    assert read_data(f).x.tolist() == [[1000.0], [2.0]]


def test_numeric_labels_sort_as_numbers(tmp_path):
    f = write(tmp_path / "d.csv", "a,y\n1,10\n2,9\n3,10\n4,2\n")
    assert read_data(f).classes == ("2", "9", "10")  # default target: the last column


def test_config_takes_the_files_shape_and_classes(tmp_path):
    f = write(tmp_path / "d.csv", "a,b,c,y\n" + "".join(f"{i},{i},{i},{'xyz'[i % 3]}\n"
                                                        for i in range(12)))
    cfg = validate(ExperimentConfig(dataset=f, widths=(5,)))
    assert (cfg.n_samples, cfg.n_features, cfg.n_outputs) == (12, 3, 3)
    assert cfg.classes == ("x", "y", "z")
    data = load_dataset(cfg.with_changes(val_split=0.5))
    assert data.x_train.shape == (6, 3) and data.x_val.shape == (6, 3)
    assert data.baseline.chance_score == 2 / 6


def test_npz_with_string_labels(tmp_path):
    f = tmp_path / "d.npz"
    np.savez(f, X=np.arange(12.0).reshape(6, 2), y=np.array(["b", "a", "b", "a", "c", "c"]))
    data = read_data(str(f))
    assert data.classes == ("a", "b", "c") and data.y.tolist() == [1, 0, 1, 0, 2, 2]


MISSING = "missing value in column"
GOOD = "a,b,y\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"
BAD_CSV = {
    "missing target": (GOOD, ["--target", "nope"], "--target: ", "no target column 'nope'"),
    "non-numeric": ("a,b,y\n1,2,x\n3,abc,y\n", [], "--dataset: ", "column 'b', row 2: 'abc'"),
    "missing value": ("a,b,y\n1,2,x\n,4,y\n", [], "--dataset: ", f"{MISSING} 'a', row 2"),
    "missing label": ("a,b,y\n1,2,x\n3,4,\n", [], "--dataset: ", f"{MISSING} 'y', row 2"),
    "NA value": ("a,b,y\n1,NA,x\n3,4,y\n", [], "--dataset: ", f"{MISSING} 'b', row 1"),
    "single class": ("a,b,y\n1,2,x\n3,4,x\n", [], "--dataset: ", "a single class ('x')"),
    "ragged": ("a,b,y\n1,2,x\n3,4\n", [], "--dataset: ", "row 2 has 2 fields"),
    "empty": ("", [], "--dataset: ", "the file is empty"),
    "class of one row, split": (
        "a,y\n1,x\n2,x\n3,y\n4,y\n5,z\n", ["--val-split", "0.4"], "--val-split: ",
        "class 'z' has 1 row",
    ),
    "split leaves a side short of classes": (
        "a,y\n" + "".join(f"{i},{'xyz'[i % 3]}\n" for i in range(9)), ["--val-split", "0.2"],
        "--val-split: ", "leaves a class empty",
    ),
}


@pytest.mark.parametrize("name", BAD_CSV)
def test_bad_data_is_one_line_and_exit_2(name, tmp_path, capsys):
    text, flags, flag, problem = BAD_CSV[name]
    f = write(tmp_path / "d.csv", text)
    assert main(["--dataset", f, "--headless", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"mlp-tui: error: {flag}") and problem in err, err


def test_bad_npz_files(tmp_path):
    cases = {
        "no_y": dict(X=np.ones((4, 2))),
        "nan": dict(X=np.array([[1.0, np.nan], [2, 3]]), y=np.array([0, 1])),
        "shape": dict(X=np.ones(4), y=np.array([0, 1, 0, 1])),
        "one_class": dict(X=np.ones((3, 2)), y=np.zeros(3)),
    }
    expected = {
        "no_y": "no array y", "nan": "column 1, row 1", "shape": "X must be a 2-D array",
        "one_class": "a single class ('0')",
    }
    for name, arrays in cases.items():
        f = tmp_path / f"{name}.npz"
        np.savez(f, **arrays)
        with pytest.raises(DataError, match=expected[name].replace("(", r"\(").replace(")", r"\)")):
            read_data(str(f))
    objects = tmp_path / "objects.npz"
    np.savez(objects, X=np.array([[1, None]], dtype=object), y=np.array([0]))
    with pytest.raises(DataError, match="numeric arrays"):  # never unpickled
        read_data(str(objects))


def test_target_needs_a_file_and_names_stay_bundled():
    with pytest.raises(ConfigError, match="--target"):
        parse_args(["--target", "y"])
    assert parse_args(["--dataset", "Wine"]).config.dataset == "wine"
    with pytest.raises(ConfigError, match="or give a .csv or .npz file"):
        validate(ExperimentConfig(dataset="nope"))
