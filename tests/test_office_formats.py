"""The office's formats: Japan time, 西暦 or 和暦, and a stated 「前回の採点がありません」.

Era boundaries checked by hand against the Cabinet Office's notices: 令和 from 2019-05-01
(令和元年), 平成 from 1989-01-08; JST is UTC+9 with no daylight saving.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from app.engine.japanese_time import format_date, format_jst, wareki_date


def test_utc_instants_are_shown_in_japan_time():
    assert format_jst("2026-11-29T10:43:01+00:00") == "2026/11/29 19:43"
    assert format_jst("2026-11-29T10:43:01+00:00", seconds=True) == "2026/11/29 19:43:01"
    # Past 15:00 UTC it is already the next day in Japan.
    assert format_jst("2026-11-29T15:30:00+00:00") == "2026/11/30 00:30"
    assert format_jst("2026-11-29T23:59:00+09:00") == "2026/11/29 23:59"
    assert format_jst("2026-11-29T10:43:01") == "2026/11/29 19:43"  # the store's naive times are UTC
    assert format_jst(pd.Timestamp("2026-11-29 20:00", tz="UTC")) == "2026/11/30 05:00"
    assert format_date("2026-11-29T20:00:00+00:00") == "2026/11/30"


def test_dates_are_never_shifted():
    assert format_jst("2026-11-29") == "2026/11/29"
    assert format_date(dt.date(2026, 1, 5)) == "2026/01/05"
    assert format_date(pd.Timestamp("2026-11-29")) == "2026/11/29"


def test_wareki():
    assert wareki_date(dt.date(2019, 5, 1)) == "令和元年5月1日"
    assert wareki_date(dt.date(2019, 4, 30)) == "平成31年4月30日"
    assert wareki_date(dt.date(1989, 1, 8)) == "平成元年1月8日"
    assert wareki_date(dt.date(1989, 1, 7)) == "昭和64年1月7日"
    assert format_jst("2026-11-29T10:43:01+00:00", wareki=True) == "令和8年11月29日 19:43"


def test_missing_values_are_empty():
    for missing in (None, "", float("nan"), np.nan, pd.NaT):
        assert format_jst(missing) == "" and format_date(missing) == ""


def test_change_without_a_previous_run_says_so():
    from app.engine.aggregates import NO_PREVIOUS_RUN, aggregate, display, suppress

    assert NO_PREVIOUS_RUN == "前回の採点がありません"
    assert display(np.nan, "", "change") == NO_PREVIOUS_RUN
    assert display(np.nan, "", "flagged") == "—"
    children = pd.DataFrame({"person_id": [f"c{i}" for i in range(30)], "district": ["北"] * 20 + ["南"] * 10,
                             "town": ["a"] * 20 + ["b"] * 10})
    flagged = pd.DataFrame({"person_id": ["c1", "c2", "c25"], "target": "abuse"})
    followups = pd.DataFrame({"person_id": pd.Series(dtype=str), "followed": pd.Series(dtype=bool),
                              "in_support": pd.Series(dtype=bool)})
    s = suppress(aggregate(children, flagged, followups, None, districts=["北", "南"]))
    d = s.district.query("target == 'abuse'").set_index("district")
    # Small counts are hidden, but with no earlier run there is no change to hide: it says why.
    assert (d["change_state"] == "").all()
    assert {display(v, st, "change") for v, st in zip(d["change"], d["change_state"])} == {NO_PREVIOUS_RUN}


def test_map_legend_names_the_missing_previous_run():
    from app.engine.aggregates import NO_PREVIOUS_RUN
    from app.engine.map_render import legend_spec

    spec = legend_spec({"district": {"abuse/change": []}}, "district", "abuse", "change")
    assert [i["label"] for i in spec["items"]] == [NO_PREVIOUS_RUN]
