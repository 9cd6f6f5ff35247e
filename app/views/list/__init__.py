"""Parts of the working list view (app/views/list_view.py): conditions ①, results ②,
filter bar ③, evidence panel, legend and the follow-up dialog."""
