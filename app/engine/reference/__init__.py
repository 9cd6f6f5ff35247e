"""Reference data as code-free tables: the routine vaccination schedule and growth reference."""
