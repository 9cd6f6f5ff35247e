"""Real identities (names, exact birth dates, 宛名番号): re-identification, every read logged.

Only roles with REIDENTIFY; a nurse only for children of her own districts (and their
household members). Each call writes one audit entry naming the person IDs shown.
"""

from __future__ import annotations

import pandas as pd

from app.store import roles
from app.store.audit import IDENTITY_SHOW
from app.store.database import transaction
from app.store.queries import requires

IDENTITY_COLUMNS = ["person_id", "name_kanji", "name_kana", "birth_date", "sex", "resident_numbers",
                    "household_number", "town", "address_note"]


@requires(roles.REIDENTIFY, data_class="identity")
def identities(session, person_ids, purpose: str = "") -> pd.DataFrame:
    """Identity rows of ``person_ids`` the session may see (audited)."""
    ids = [str(p) for p in person_ids]
    if not ids:
        return pd.DataFrame(columns=IDENTITY_COLUMNS)
    cond, params = session.district_filter_sql("p.district")
    marks = ",".join("?" * len(ids))
    # A person without a district (a mother from a receipt) is visible through a visible child.
    sql = (f"SELECT {', '.join('i.' + c for c in IDENTITY_COLUMNS)} FROM identities i "
           f"JOIN persons p ON p.person_id = i.person_id WHERE i.person_id IN ({marks}) AND ("
           f"{cond} OR EXISTS (SELECT 1 FROM relations r JOIN persons c ON c.person_id = r.related_id "
           f"WHERE r.person_id = i.person_id AND {cond.replace('p.district', 'c.district')}))")
    rows = session.conn.execute(sql, [*ids, *params, *params]).fetchall()
    frame = pd.DataFrame(rows, columns=IDENTITY_COLUMNS)
    with transaction(session.conn):
        session.audit(IDENTITY_SHOW, "person", frame["person_id"].tolist(), {"purpose": purpose})
    return frame


@requires(roles.REIDENTIFY, data_class="identity")
def identity(session, person_id: str, purpose: str = "") -> dict | None:
    """One person's identity as a dict, or None if unknown or not visible (audited)."""
    frame = identities(session, [person_id], purpose)
    return None if frame.empty else frame.iloc[0].to_dict()
