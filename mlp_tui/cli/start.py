"""The session the command line asked for (a replay, or live training on a backend) and the
runner that owns it."""

from __future__ import annotations

from mlp_tui.cli.args import Invocation, ReplayInvocation


def start_runner(inv: Invocation | ReplayInvocation, defer: bool = False):
    """The session and its runner; raises the errors `main` turns into one line. `defer`: a
    thread-backend session imports torch and builds its runs only once started (the app draws
    its first frame before)."""
    from mlp_tui.runner import Outputs, Runner

    if isinstance(inv, ReplayInvocation) and inv.file.is_dir():
        from mlp_tui.session.tensorboard import TensorBoardSession

        session = TensorBoardSession(inv.file, follow=inv.follow)
        return Runner(session, Outputs(export=inv.export, capacity=inv.face.capacity))
    if isinstance(inv, ReplayInvocation):
        from mlp_tui.session.replay import ReplaySession

        session = ReplaySession(inv.file, follow=inv.follow)
        return Runner(session, Outputs(export=inv.export, capacity=inv.face.capacity))
    session = _live_session(inv, defer)
    outputs = Outputs(inv.export, inv.history, inv.force, inv.face.capacity, inv.tensorboard,
                      inv.models)
    try:
        return Runner(session, outputs)
    except BaseException:  # a refused file: leave no worker, actor or local Ray behind
        session.stop()
        raise


def _live_session(inv: Invocation, defer: bool = False):
    """The session of the chosen backend (its slow imports only when chosen)."""
    if inv.backend == "process":
        from mlp_tui.session.process import ProcessSession

        return ProcessSession(inv.config, inv.workers)
    if inv.backend == "ray":
        from mlp_tui.session.ray_session import RaySession

        return RaySession(inv.config, inv.ray_address)
    from mlp_tui.session.live import LiveSession

    return LiveSession(inv.config, deferred=defer)
