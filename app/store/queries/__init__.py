"""Role-checked reads. Every function here takes a Session, calls ``session.require``
first and restricts person-level rows to ``session.visible_districts()``. Views and
models get case data only through these functions."""
