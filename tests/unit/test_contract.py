"""The session contract (core.contract) declares every member a face reads: each kind of session,
run and history inherits it and defines its abstract members, and no code probes for a member
with getattr or hasattr."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mlp_tui.core.contract import NOT_LIVE, RunView, Session, Unsupported
from mlp_tui.core.history import History, RunHistory
from mlp_tui.engine.run import Run
from mlp_tui.session.live import LiveSession
from mlp_tui.session.process import ProcessSession
from mlp_tui.session.ray_session import RaySession
from mlp_tui.session.remote import RemoteRun
from mlp_tui.session.replay import ReplayRun, ReplaySession
from mlp_tui.session.tag_history import TagHistory
from mlp_tui.session.tensorboard import TagRun, TensorBoardSession

PACKAGE = Path(__file__).resolve().parents[2] / "mlp_tui"
KINDS = [
    (Session, [LiveSession, ProcessSession, RaySession, ReplaySession, TensorBoardSession]),
    (RunView, [Run, RemoteRun, ReplayRun, TagRun]),
    (History, [RunHistory, TagHistory]),
]


def _members(protocol: type) -> set[str]:
    names = set(getattr(protocol, "__annotations__", {}))
    names |= {n for n in vars(protocol) if not n.startswith("_")}
    return names | {"__len__"} if protocol is History else names


@pytest.mark.parametrize(("protocol", "kinds"), KINDS, ids=lambda v: getattr(v, "__name__", ""))
def test_every_kind_inherits_the_contract_and_defines_what_it_requires(protocol, kinds):
    """The abstract members are required: a kind that lacks one cannot be built (a backend's
    base, session.hosted.HostedSession, leaves `describe` and `stop` to each backend)."""
    for kind in kinds:
        assert protocol in kind.__mro__, kind
        assert not kind.__abstractmethods__, (kind, sorted(kind.__abstractmethods__))


def test_optional_members_have_their_defaults_and_a_recorded_session_has_no_control(tmp_path):
    assert (Session.metrics, Session.x_name, Session.problem) == (None, "epoch", None)
    assert RunView.name == "" and RunView.error is None
    assert TensorBoardSession.x_name == "step" and LiveSession.x_name == "epoch"
    path = tmp_path / "h.csv"
    from mlp_tui.persist.codec import HISTORY_COLUMNS, csv_header

    path.write_text(csv_header(HISTORY_COLUMNS))
    session = ReplaySession(path, follow=True)
    try:
        assert session.controls == frozenset() and session.config is None
        assert session.metrics is None and session.speed is None
        for control, args in ((session.toggle, ()), (session.restart, (5,)),
                              (session.set_speed, (2.0,)), (session.reconfigure, (None,))):
            with pytest.raises(Unsupported, match=NOT_LIVE):
                control(*args)
    finally:
        session.stop()


def test_the_default_axis_is_the_epoch():
    h = RunHistory(4)
    h.extend({"train_loss": [1.0, 0.5], "train_acc": [1, 2], "elapsed_s": [0.25, 0.5]},
             [0, 0], [0, 0])
    epochs, seconds = h.axis("train_loss", 0, 2)
    assert list(epochs) == [1, 2] and seconds == [0.25, 0.5]
    assert h.last_step() == 2 and RunHistory(4).last_step() is None


def test_no_code_probes_for_a_contract_member():
    members = set().union(*(_members(p) for p, _ in KINDS))
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in members
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, found
