"""The remembered view, a preference per kind of experiment.

What a setting means depends on the experiment's shape: `m:train loss` hides the validation
curves of an experiment that has them, the capacity view turns a 10-width example's "then press
w" into "off", `b:seeds` smears a grid's 32 curves. So the settings that depend on the shape
(`KIND_SETTINGS`) are remembered per kind of experiment (`experiment_kind`: validation or not,
the number of widths, the grid axes, seeds repeated or not, replay or live), and the rest (scale,
smoothing, zoom, x-axis) are shared. A kind seen for the first time starts from the defaults for
those, and the app says so once, in plain words: `view as you left it: y scale; metric at its
default: the first time for live runs of 3 widths with validation`.

The file holds `{"version": 2, "shared": {...}, "kinds": {kind: {...}}, "last": kind}`; a file
of the first format (one flat dict) counts as shared settings plus the kind settings of an
unknown last kind.
"""

from __future__ import annotations

from mlp_tui.core.config import GRID_FIELDS
from mlp_tui.core.contract import Session
from mlp_tui.view.settings import REMEMBERED, ViewSettings

VERSION = 2
KIND_SETTINGS = ("metric", "capacity", "capacity_at", "capacity_x", "band", "grid", "hidden")
SHARED_SETTINGS = tuple(n for n in REMEMBERED if n not in KIND_SETTINGS)
MAX_KINDS = 32  # kinds remembered; the least recently saved go first



def experiment_kind(session: Session) -> str:
    """The shape of an experiment, in words: `live · validation · 3 widths · grid depth,lr`."""
    runs = session.runs
    source = "live" if session.config is not None else (
        "log" if session.metrics is not None else "replay")
    parts = [source, "validation" if session.has_val else "train only",
             f"{len(session.widths)} widths"]
    cfg = session.config  # a live session's shape is its config's (its runs may not exist yet)
    axes = cfg.grid_axes() if cfg is not None else [
        f for f in GRID_FIELDS if len({repr(r.meta.get(f)) for r in runs}) > 1]
    if axes:
        parts.append("grid " + ",".join(axes))
    if cfg.repeats > 1 if cfg is not None else any(r.meta.get("repeat") for r in runs):
        parts.append("seeds")
    return " · ".join(parts)


def _split(data: object) -> tuple[dict, dict, str | None]:
    """(shared settings, {kind: kind settings}, the kind saved last) from the file's dict."""
    if not isinstance(data, dict):
        return {}, {}, None
    if data.get("version") != VERSION:  # the first format: one flat dict, kind unknown
        kinds = {None: {k: data[k] for k in KIND_SETTINGS if k in data}}
        shared = {k: v for k, v in data.items() if k not in KIND_SETTINGS}
        return shared, kinds, None  # type: ignore[dict-item]
    shared = data.get("shared")
    kinds = data.get("kinds")
    last = data.get("last")
    return (shared if isinstance(shared, dict) else {},
            {k: v for k, v in kinds.items() if isinstance(v, dict)} if isinstance(kinds, dict)
            else {}, last if isinstance(last, str) else None)


def restore(data: object, kind: str) -> tuple[ViewSettings, str]:
    """The settings for an experiment of `kind`, and what to tell the user once, in plain words
    ("" when nothing was remembered that differs from the defaults). A live launch opens on its
    curves even where the capacity view was left on: at epoch 0 it has nothing to show."""
    shared, kinds, last = _split(data)
    own = kinds.get(kind)
    settings = ViewSettings.from_dict({**shared, **(own or {})})
    default = ViewSettings()
    if kind.startswith("live"):
        settings.capacity = default.capacity
    if own is not None:
        resets: list[str] = []
    else:  # a new kind: what the last one had that this one does not take over
        before = ViewSettings.from_dict(kinds.get(last, {}))
        resets = [n for n in KIND_SETTINGS if getattr(before, n) != getattr(default, n)]
    restored = [n for n in REMEMBERED if getattr(settings, n) != getattr(default, n)]
    if not restored and not resets:
        return settings, ""
    said = ["view as you left it: " + ", ".join(REMEMBERED[n] for n in restored)
            ] if restored else []
    if resets:
        said.append(f"{_and([REMEMBERED[n] for n in resets])} at "
                    f"{'its default' if len(resets) == 1 else 'their defaults'}: the first time "
                    f"for {kind_words(kind)}")
    return settings, "; ".join(said)


def kind_words(kind: str) -> str:
    """A kind in plain words: `live runs of 3 widths, several seeds, without validation`."""
    parts = kind.split(" · ")
    source = {"live": "live runs", "replay": "a replay", "log": "a log"}.get(parts[0], parts[0])
    words = [f"{source} of {next((p for p in parts if p.endswith('widths')), 'some widths')}"]
    words += [f"a grid over {_and(p[5:].split(','))}" for p in parts if p.startswith("grid ")]
    words += ["several seeds"] if "seeds" in parts else []
    words.append("with validation" if "validation" in parts else "without validation")
    return ", ".join(words[:-1]) + " " + words[-1]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def remember(data: object, kind: str, settings: ViewSettings) -> dict[str, object]:
    """The file's new dict: `settings` saved as this kind's, the shared ones for every kind."""
    _shared, kinds, _last = _split(data)
    values = settings.to_dict()
    kinds = {k: v for k, v in kinds.items() if isinstance(k, str) and k != kind}
    kinds[kind] = {n: values[n] for n in KIND_SETTINGS}
    kinds = dict(list(kinds.items())[-MAX_KINDS:])
    return {"version": VERSION, "shared": {n: values[n] for n in SHARED_SETTINGS},
            "kinds": kinds, "last": kind}
