"""mlp-tui: a terminal training monitor for PyTorch MLPs."""

__version__ = "0.1.0"
