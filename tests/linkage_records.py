"""Hand-made linkage records for the linkage tests (one place, so both files build rows alike)."""

import pandas as pd

from app.engine.linkage import link
from app.engine.pseudonyms import Keyer

KEY = Keyer(b"test-secret-for-linkage-0123456789")


def rec(source, line, rn="", hh="", kanji="", kana="", birth="", sex="", reason="", date=None):
    return dict(source=source, file=f"{source}.csv", line=line, resident_number=rn, household_number=hh,
                name_kanji=kanji, name_kana=kana, birth_date=pd.Timestamp(birth) if birth else pd.NaT,
                sex=sex, move_reason=reason, move_date=pd.Timestamp(date) if date else pd.NaT)


def run(rows, decisions=None):
    return link(pd.DataFrame(rows), lambda s: KEY.digest("pair:" + s), decisions)


def entity(result, source, line):
    r = result.records
    return r[(r["source"] == source) & (r["line"] == line)]["entity"].iloc[0]
