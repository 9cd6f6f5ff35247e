"""Pure engine: pandas in, pandas out. Never imports Qt (a test enforces it)."""
