"""The kinds of session (the contract: `mlp_tui.core.contract`): live training on threads,
worker processes or Ray, a replayed or followed history file, a TensorBoard log directory."""
