"""The training engine: data, models, runs and their histories. Never imports Textual."""
