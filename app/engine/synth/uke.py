"""NHI receipts as electronic-receipt (.UKE) files: IR → (RE HO [KO] SY… SI…)… → GO, CP932, CRLF.

One file per (請求年月, institution). Files billed before 2024-06 code dates in 和暦 (GYYMMDD /
GYYMM, G 4 = 平成, 5 = 令和), later ones in 西暦. Names are JIS X 0208 only: 髙/﨑 become 高/崎
or the name is written in katakana.
"""

from __future__ import annotations

from pathlib import Path

import jaconv
import numpy as np
import pandas as pd

from app.engine.synth import mess
from app.engine.synth import names as nm
from app.engine.synth.events import DIAGNOSES, GENERIC_NIGHT_CODES, INSTITUTIONS, NIGHT_CODES

WAREKI_UNTIL = np.datetime64("2024-06-01").astype("datetime64[D]").astype(np.int64)
INSURER = "138222"  # synthetic NHI insurer number (6 digits)
PUBLIC_PAYER = "88146011"  # synthetic 小児医療費助成 payer number


def _name_fields(world, pids: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """RE field 5 (full-width, JIS X 0208) and field 37 (katakana)."""
    pids = np.asarray(pids)
    uniq, inv = np.unique(pids, return_inverse=True)
    inv = inv.reshape(-1)
    p = world.persons.iloc[uniq]  # pid is the row position
    fam, giv = p["family"].to_numpy(), p["given"].to_numpy()
    kana = (p["family_kana"] + "　" + p["given_kana"]).to_numpy()
    kanji = pd.Series(fam).str.cat(pd.Series(giv), sep="　")
    bad = kanji.str.contains("[" + "".join(nm.NOT_JIS0208) + "]", regex=True).to_numpy()
    as_kana = bad & (rng.random(len(uniq)) < 0.3)
    fixed = kanji.copy()
    for ch, rep in nm.NOT_JIS0208.items():
        fixed = fixed.str.replace(ch, rep, regex=False)
    name = np.where(as_kana, kana, fixed.to_numpy())
    # Full-width everywhere: foreign names are already katakana; digits/latin never occur.
    name = np.array([jaconv.h2z(s, kana=True, ascii=True, digit=True) for s in name], dtype=object)
    return name[inv], kana[inv]


def _records(cols: list) -> pd.Series:
    """Comma-joined records from a list of per-receipt arrays and constant strings."""
    parts = [pd.Series(np.asarray(c, dtype=object)).astype(str) if not isinstance(c, str) else c for c in cols]
    n = max(len(p) for p in parts if not isinstance(p, str))
    parts = [pd.Series([p] * n) if isinstance(p, str) else p.reset_index(drop=True) for p in parts]
    return parts[0].str.cat(parts[1:], sep=",")


def write_uke(world, out_dir: Path, rng) -> tuple[list[dict], pd.DataFrame]:
    """Write every .UKE file; returns manifest entries and truth records (file, line, pid)."""
    r = world.receipts.copy()
    if r.empty:
        return [], pd.DataFrame(columns=["file", "line", "true_person_id"])
    bill = (r["month"].to_numpy().astype("datetime64[D]").astype("datetime64[M]") + 1)
    r["bill"] = bill.astype("datetime64[D]").astype(np.int64)
    r["wareki"] = r["bill"] < WAREKI_UNTIL
    r = r.sort_values(["bill", "institution", "pid", "night"], kind="stable").reset_index(drop=True)
    r["rno"] = r.groupby(["bill", "institution"]).cumcount() + 1
    # The random draws happen in this order (RE, HO/KO/SI, SY): a fixed seed gives the same files.
    re, ko = _re_records(world, r, rng)
    visits, total = _visit_records(r, ko, rng)
    sy1, sy2, has2 = _sy_records(r, rng)
    n, night = len(r), r["night"].to_numpy()
    hon, kor, si_base, si_inf, si_night = visits
    recs = [(0, re, np.ones(n, bool)), (1, hon, np.ones(n, bool)), (2, kor, ko), (3, sy1, np.ones(n, bool)),
            (4, sy2, has2), (5, si_base, np.ones(n, bool)), (6, si_inf, r["age_years"].to_numpy() < 6),
            (7, si_night, night)]  # 乳幼児加算 only under 6
    return _write_files(out_dir, r, recs, total)


def _re_records(world, r: pd.DataFrame, rng) -> tuple[pd.Series, np.ndarray]:
    """RE (receipt) records and which receipts also carry the city's medical subsidy (KO)."""
    n = len(r)
    name, kana = _name_fields(world, r["pid"].to_numpy(), rng)
    persons = world.persons.set_index("pid")
    sex = np.where(persons["sex"].reindex(r["pid"]).to_numpy() == "M", "1", "2")
    birth = persons["birth"].reindex(r["pid"]).to_numpy()
    w = r["wareki"].to_numpy()
    ym = np.where(w, mess.format_dates(r["month"].to_numpy(), "uke_wareki_ym"),
                  pd.Series(mess.format_dates(r["month"].to_numpy(), "compact")).str[:6].to_numpy())
    bd = np.where(w, mess.format_dates(birth, "uke_wareki"), mess.format_dates(birth, "compact"))
    ko = rng.random(n) < 0.7  # most preschool receipts also carry the city's medical subsidy
    rtype = np.where(ko, "1124", "1114")
    special = np.where(r["income_code"].to_numpy() > 0, r["income_code"].astype(str).to_numpy(), "")
    chart = pd.Series(rng.integers(100000, 999999, n)).astype(str).to_numpy()
    re_cols = ["RE", r["rno"].to_numpy(), rtype, ym, name, sex, bd, "", "", "", "", special, "",
               chart, "", "", "", "", "", "", ""] + [""] * 15 + [kana, ""]
    return _records(re_cols), ko


def _day_fields(mask_days: np.ndarray) -> list:
    """Fields 14–44 as one pre-joined string: the count of visits on each day 1–31.
    Up to three visit days (0 = none) are one integer key; each distinct key is formatted
    once (few distinct patterns, many receipts)."""
    key = mask_days[:, 0] * 1024 + mask_days[:, 1] * 32 + mask_days[:, 2]
    uniq, inv = np.unique(key, return_inverse=True)
    text = []
    for k in uniq.tolist():
        counts = [0] * 32
        for d in (k // 1024, (k // 32) % 32, k % 32):
            counts[d] += 1
        text.append(",".join(str(c) if c else "" for c in counts[1:]))
    return [np.array(text, dtype=object)[inv.reshape(-1)]]


def _visit_records(r: pd.DataFrame, ko: np.ndarray, rng) -> tuple[tuple, np.ndarray]:
    """(HO, KO, SI base, SI infant add-on, SI night add-on) records and each receipt's points."""
    n = len(r)
    # Visit days: day1, then +4 and +9 for repeat visits (kept inside the month).
    nvis = r["visits"].to_numpy()
    d1 = r["day1"].to_numpy()
    days = np.stack([d1, np.minimum(d1 + 4, 28), np.minimum(d1 + 9, 28)], axis=1)
    used = np.arange(3)[None, :] < np.minimum(nvis, 3)[:, None]
    nvis = np.minimum(nvis, 3)
    first = r["first_visit"].to_numpy()
    night = r["night"].to_numpy()
    base_code = np.where(first, "111000110", "112007410")
    base_pts = np.where(first, "291", "75")
    infant_code = np.where(first, "111000370", "112000970")
    infant_pts = np.where(first, "75", "38")
    kinds = r["night_kind"].to_numpy()
    # from age 6 the generic 時間外/休日/深夜 add-ons replace the 乳幼児 ones (点数表 A000 注7, A001 注5)
    older = r["age_years"].to_numpy() >= 6
    table = np.where(older, "generic", "infant")
    nc = np.array([(GENERIC_NIGHT_CODES if t == "generic" else NIGHT_CODES).get(k, ("", ""))[0 if f else 1]
                   for k, f, t in zip(kinds, first, table)], dtype=object)
    npts = np.where(older, np.where(kinds == "深夜", np.where(first, "480", "420"),
                                    np.where(kinds == "休日", np.where(first, "250", "190"), np.where(first, "85", "65"))),
                    np.where(kinds == "深夜", "695", np.where(kinds == "休日", "365", "200")))
    total = nvis * (base_pts.astype(int) + np.where(older, 0, infant_pts.astype(int))) + np.where(night, npts.astype(int), 0)
    hon = _records(["HO", INSURER, "", pd.Series(rng.integers(10000000, 99999999, n)).astype(str).to_numpy(),
                    nvis, total, "", "", "", "", "", "", "", "", ""])
    kor = _records(["KO", PUBLIC_PAYER, pd.Series(rng.integers(1000000, 9999999, n)).astype(str).to_numpy(),
                    "", nvis, total, "", "", "", "", "", ""])
    visit_days = np.where(used, days, 0)
    first_day = np.where(night[:, None], np.stack([d1, d1 * 0, d1 * 0], axis=1), visit_days)
    si_base = _records(["SI", np.where(first, "11", "12"), "1", base_code, "", base_pts, nvis]
                       + [""] * 6 + _day_fields(visit_days))
    si_inf = _records(["SI", np.where(first, "11", "12"), "1", infant_code, "", infant_pts, nvis]
                      + [""] * 6 + _day_fields(visit_days))
    si_night = _records(["SI", np.where(first, "11", "12"), "1", nc, "", npts, "1"] + [""] * 6
                        + _day_fields(first_day))
    return (hon, kor, si_base, si_inf, si_night), total


def _sy_records(r: pd.DataFrame, rng) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """SY (diagnosis) records: the first diagnosis of every receipt, a second one where drawn."""
    n = len(r)
    d1 = r["day1"].to_numpy()
    night = r["night"].to_numpy()
    w = r["wareki"].to_numpy()
    codes = np.array([d[0] for d in DIAGNOSES])
    dnames = np.array([d[1] for d in DIAGNOSES])
    # About one diagnosis in six is uncoded (0000999 + name), as in real receipts.
    unc1 = rng.random(n) < 0.15
    start1 = r["month"].to_numpy() + d1 - 1
    sdate = np.where(w, mess.format_dates(start1, "uke_wareki"), mess.format_dates(start1, "compact"))
    dx1 = r["dx1"].to_numpy()
    sy1 = _records(["SY", np.where(unc1, "0000999", codes[dx1]), sdate, np.where(night, "2", "1"), "",
                    np.where(unc1, dnames[dx1], ""), "01", ""])
    dx2 = r["dx2"].to_numpy()
    has2 = dx2 >= 0
    sy2 = _records(["SY", codes[np.maximum(dx2, 0)], sdate, "1", "", "", "", ""])
    return sy1, sy2, has2


def _write_files(out_dir: Path, r: pd.DataFrame, recs: list, total: np.ndarray) -> tuple[list[dict], pd.DataFrame]:
    """One .UKE file per billing month and institution (IR, the receipts' records, GO)."""
    long = pd.concat([pd.DataFrame({"i": np.flatnonzero(m), "seq": s, "text": t.to_numpy()[m]})
                      for s, t, m in recs], ignore_index=True)
    long = long.sort_values(["i", "seq"], kind="stable").reset_index(drop=True)
    long["bill"] = r["bill"].to_numpy()[long["i"]]
    long["inst"] = r["institution"].to_numpy()[long["i"]]
    manifest, truth = [], []
    bills = np.unique(r["bill"].to_numpy())
    b_compact = dict(zip(bills, mess.format_dates(bills, "compact")))
    b_wareki = dict(zip(bills, mess.format_dates(bills, "uke_wareki_ym")))
    b_manifest = dict(zip(bills, mess.format_dates(bills + 9, "iso")))
    for (bill, inst), g in long.groupby(["bill", "inst"], sort=True):
        g_idx = g["i"].to_numpy()
        wk = bool(r["wareki"].to_numpy()[g_idx[0]])
        code, iname, tel = INSTITUTIONS[inst]
        bill_ym = b_wareki[bill] if wk else b_compact[bill][:6]
        fname = f"RECEIPTC_{b_compact[bill][:6]}_{code}.UKE"
        ir = f"IR,2,14,1,{code},,{iname},{bill_ym},00,{tel}"
        rec_ids = np.unique(g_idx)
        pts = int(total[rec_ids].sum())
        go = f"GO,{len(rec_ids)},{pts},99"
        lines = [ir] + g["text"].tolist() + [go]
        (out_dir / fname).write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
        is_re = (g["seq"].to_numpy() == 0)
        line_no = 2 + np.flatnonzero(is_re)
        truth.append(pd.DataFrame({"file": fname, "line": line_no, "pid": r["pid"].to_numpy()[g_idx[is_re]]}))
        manifest.append({"ファイル名": fname, "データ種別": "国保レセプト",
                         "抽出日": b_manifest[bill], "提供課": "国民健康保険課"})
    return manifest, pd.concat(truth, ignore_index=True)
