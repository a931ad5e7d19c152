"""The training engine: data, models, the step, runs and their scheduling. Imports only
`mlp_tui.core`; never a UI library or a file writer."""
