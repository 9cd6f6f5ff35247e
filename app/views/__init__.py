"""Qt widgets. One module per view; each runs alone: ``python -m app.views.<module>``."""
