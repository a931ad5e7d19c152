"""The Python API (`mlp_tui.train`, `mlp_tui.monitor`, `mlp_tui.read_history`): keyword arguments
become the very command line the CLI parses, so a notebook gets the same checks, error lines,
sessions and backends; the results come back as pandas DataFrames (the `pandas` extra)."""
