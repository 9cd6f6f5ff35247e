"""Parts of the working list view (app/views/list_view.py): conditions ①, results ②,
filter bar ③, evidence panel, legend and the follow-up dialog."""

# shiboken6 6.12 on Python 3.11 drops a reference to None on every void Qt call; the flag
# badges' paint makes dozens per cell. Importing the timeline package applies its guard
# (app/views/timeline/__init__.py) for every part of the list, not only the page.
import app.views.timeline  # noqa: F401
