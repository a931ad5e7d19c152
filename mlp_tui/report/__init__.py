"""Numbers derived from runs for people to read: a run's table row, loss against width."""
