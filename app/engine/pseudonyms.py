"""Keyed hashes and display pseudonyms.

A plain hash of a name can be reversed with a dictionary of names; HMAC-SHA256 with the
installation's secret (kept inside the encrypted store) cannot without the secret. The same
normalised value gives the same hash, so linkage keys survive between deliveries.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

# 46 kana rows: the first part of the display pseudonym (e.g. "あ-1234").
_KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"


class Keyer:
    """HMAC-SHA256 with the store's pseudonym secret."""

    def __init__(self, secret: bytes):
        if not secret:
            raise ValueError("empty pseudonym secret")
        self._secret = secret

    def digest(self, value: str) -> str:
        """Hex HMAC of ``value`` (callers normalise first: names via app.engine.names)."""
        return hmac.new(self._secret, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def series(self, values: pd.Series) -> pd.Series:
        """HMAC of each value, computed once per distinct value; empty stays empty."""
        values = values.fillna("").astype(str)
        codes, uniq = pd.factorize(values)
        mapped = np.array([self.digest(u) if u else "" for u in uniq], dtype=object)
        return pd.Series(mapped[codes] if len(uniq) else np.array([], dtype=object), index=values.index)

    def household_id(self, household_number: str) -> str:
        """``H`` + 8 hex chars: the analysis tables' household code (never the real number)."""
        return "H" + self.digest("household:" + household_number)[:8] if household_number else ""

    def household_ids(self, numbers: pd.Series) -> pd.Series:
        numbers = numbers.fillna("").astype(str)
        codes, uniq = pd.factorize(numbers)
        mapped = np.array([self.household_id(u) for u in uniq], dtype=object)
        return pd.Series(mapped[codes] if len(uniq) else np.array([], dtype=object), index=numbers.index)


def display_pseudonym(person_id: str) -> str:
    """Short code shown instead of a name, deterministic from the research ID: ``"あ-1234"``.

    Derived by an unkeyed hash on purpose: it hides nothing that the research ID does not
    already hide, and every terminal shows the same code for the same child.
    """
    h = int(hashlib.sha256(("pseudonym:" + str(person_id)).encode()).hexdigest(), 16)
    return f"{_KANA[h % len(_KANA)]}-{(h // len(_KANA)) % 10000:04d}"
