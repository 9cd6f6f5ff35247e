"""Qt item models adapting engine/store frames for views."""

from app.qt_refcounts import guard_singleton_refcounts

# Before any PySide6 call: see app/qt_refcounts.py (shiboken6 6.12 on Python 3.11).
guard_singleton_refcounts()
