"""The faces besides the TUI: headless text, and the web server that serves the TUI per tab."""
