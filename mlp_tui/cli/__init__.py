"""The command line: arguments -> a session and a face (`main.main` is the `mlp-tui` script)."""
