"""The Textual face: the app, its stylesheet, its widgets and the plot's drawing."""
