"""The visit sheet is a visit sheet (issue 15): who and where after the logged reveal, no ✕ fact
(a flag is as guarded as its strictest evidence), through the export gate (sealed by default),
and a PDF whose text layer is the text that was drawn (no Kangxi radicals, no lost digits)."""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest

from app.engine.visit_sheet import build_sheet, identity_of
from app.engine.worklist import ChildEvidence

from conftest import PASSWORD, open_as

PASSPHRASE = "visit-sheet-Pass-9876"
RADICALS = re.compile("[\u2e80-\u2fdf]")


def _public_assistance_evidence() -> ChildEvidence:
    """A child whose public-assistance flag is △ but whose evidence row is a ✕ 生活保護 start
    (the case printed by the old sheet), beside an ordinary ○ checkup flag."""
    flags = pd.DataFrame({
        "rule_id": ["public_assistance", "checkup_attendance", "income"],
        "label": ["生活保護受給世帯", "定期受診（健診）", "低所得（区エ・区オ）"],
        "flagged": [True, True, False],
        "reason": ["生活保護受給世帯：世帯: 2020-11-14 生活保護 開始", "定期受診（健診）：3歳児健診 未受診", ""],
        "threshold": ["", "", ""],
        "disclosure": ["staff", "discuss", "never"],
        "first_date": pd.to_datetime(["2020-11-14", "2024-05-01", None]),
        "last_date": pd.to_datetime(["2020-11-14", "2024-05-01", None])})
    rows = pd.DataFrame({
        "rule_id": ["public_assistance", "checkup_attendance"], "event_id": [1, 2], "role": ["", ""],
        "source": ["seiho", "kenshin"], "date": pd.to_datetime(["2020-11-14", "2024-05-01"]),
        "description": ["2020-11-14 生活保護 開始", "2024-05-01 3歳児健診 未受診"], "value": ["開始", "未受診"],
        "as_of": ["2025-03-01", "2025-03-01"], "disclosure": ["never", "discuss"]})
    household = pd.DataFrame({
        "person_id": ["900002", "900003"], "pseudonym": ["あ-1", "い-2"], "relation": ["母", "きょうだい"],
        "age_months": [400.0, 60.0], "flags": ["生活保護受給世帯・定期受診（健診）", ""], "disclosure": "staff"})
    return ChildEvidence(person_id="900001", pseudonym="う-3", district="大津", town="馬堀町１丁目", age_months=40,
                         flags=flags, rows=rows, household=household, followups=pd.DataFrame())


def _sheet_text(sheet) -> str:
    return " ".join([sheet.title, sheet.meta, *sheet.pretexts, *sheet.questions,
                     *(f.text + f.source for f in sheet.discuss + sheet.staff)])


def test_public_assistance_is_never_printed_when_its_evidence_is_never():
    sheet = build_sheet(_public_assistance_evidence())
    text = _sheet_text(sheet)
    assert "生活保護" not in text                       # neither the flag, its reason, its row …
    assert "低所得" not in text
    assert "定期受診（健診）" in text                     # … while the ordinary flag is there,
    assert any("母" in f.text and "定期受診" in f.text for f in sheet.staff)   # and the mother's other flag
    assert sheet.omitted_never >= 3                     # flag + row + the mother's label
    assert any("健診" in p for p in sheet.pretexts)


def test_identity_block_from_identity_rows():
    ev = _public_assistance_evidence()
    ids = pd.DataFrame({"person_id": ["900001", "900002"], "name_kanji": ["大津　花子", "大津　和子"],
                        "name_kana": ["オオツハナコ", "オオツカズコ"], "birth_date": ["2021-11-02", "1990-01-01"],
                        "sex": ["F", "F"], "resident_numbers": ["", ""], "household_number": ["1", "1"],
                        "town": ["馬堀町１丁目", "馬堀町１丁目"], "address_note": ["3-5", ""]})
    who = identity_of("900001", ids, ev.household, ev.district)
    assert who.name == "大津　花子" and who.kana == "オオツハナコ"
    assert who.address == "馬堀町１丁目3-5（大津地区）"
    assert who.guardians == [("母", "大津　和子", "オオツカズコ")]
    sheet = build_sheet(ev, who)
    assert sheet.title.startswith("大津　花子")
    assert identity_of("999", ids, ev.household) is None


def test_print_font_drops_only_code_points_that_shadow_the_real_character():
    from app.views.pdf_font import shadowing_code_points

    cmap = {0x2F24: "g1", 0x5927: "g1",      # ⼤ / 大: one glyph, the radical comes first
            0x0009: "g2", 0x0020: "g2",      # TAB / space
            0x2027: "g3", 0x30FB: "g3",      # ‧ / ・
            0x2026: "g4", 0x22EF: "g4",      # … / ⋯: neither is wrong, keep both
            0x529B: "g5", 0xF98A: "g5",      # 力 / compatibility 力 (higher: never wins)
            0x0041: "g6"}
    assert shadowing_code_points(cmap) == {0x2F24, 0x0009, 0x2027}


# --- against a real store --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from app.engine.synth import generate_delivery
    from app.store.accounts import add_user
    from app.store.importing import import_delivery
    from app.store.opening import create_store
    from app.store.scoring_runs import run_active_rulesets
    from app.store.terminals import register_terminal

    base = tmp_path_factory.mktemp("visit_sheet")
    generate_delivery(base / "delivery", children=300, seed=7)
    admin = create_store(base / "store.db", "admin", PASSWORD)
    add_user(admin, "nurse", "nurse", PASSWORD, areas=["中央"])
    add_user(admin, "manager", "cg_manager", PASSWORD)
    import_delivery(admin, base / "delivery")
    run_active_rulesets(admin)
    register_terminal(admin, "test terminal")
    admin.close()
    return base / "store.db"


def _assisted_child(session) -> str:
    """A visible child flagged for public assistance, with a 生活保護 evidence row."""
    cond, params = session.district_filter_sql("p.district")
    row = session.conn.execute(
        "SELECT f.person_id FROM flags f JOIN persons p ON p.person_id = f.person_id "
        f"WHERE f.rule_id = 'public_assistance' AND f.flagged AND {cond} ORDER BY f.person_id LIMIT 1",
        params).fetchone()
    if row is None:
        pytest.skip("no visible child on public assistance in this synthetic city")
    return row[0]


def _pdftotext(data: bytes, tmp_path) -> str:
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_printed_sheet_of_child_on_public_assistance(store, qapp, tmp_path):
    """The whole path: gate, logged reveal, evidence, PDF; pdftotext equals what was drawn, carries
    name/address/guardians and the district as real characters, and never 生活保護."""
    from app.store.queries.identity import identities
    from app.views.visit_sheet import pdf_bytes, prepare_visit_sheets

    nurse = open_as(store, "nurse")
    try:
        pid = _assisted_child(nurse)
        sheets, footer = prepare_visit_sheets(nurse, [pid], reveal=True, encrypt=True, passphrase=PASSPHRASE)
        rendered = pdf_bytes(sheets, footer)
        truth = identities(nurse, [pid], purpose="test").iloc[0]
        shown = nurse.conn.execute("SELECT detail FROM audit_log WHERE action = 'identity_show' "
                                   "ORDER BY seq DESC LIMIT 2").fetchall()
    finally:
        nurse.close()
    sheet = sheets[0]
    assert any("visit_sheet" in (d[0] or "") for d in shown)      # the reveal was logged
    text = _pdftotext(rendered.pdf, tmp_path)
    assert "生活保護" not in text
    assert not RADICALS.search(text), sorted(set(RADICALS.findall(text)))
    assert sheet.identity is not None and sheet.identity.guardians
    flat = _squash(text)
    drawn = [sheet.title, sheet.meta, sheet.identity.name, sheet.identity.address,
             *[name for _, name, _ in sheet.identity.guardians], *sheet.pretexts, *sheet.questions,
             *[f.text for f in sheet.discuss + sheet.staff]]
    missing = [d for d in drawn if _squash(d) not in flat]
    assert not missing, missing                                       # the text layer is the text drawn
    assert _squash(truth["name_kanji"]) in flat and truth["town"] in flat
    district = sheet.meta.split()[0]
    assert district in text                                           # e.g. 大津 as U+5927 U+6D25
    # the pages render (and can be looked at): pdftoppm draws one PNG per page
    (tmp_path / "sheet.pdf").write_bytes(rendered.pdf)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(tmp_path / "sheet.pdf"), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page*.png"))) == rendered.pages >= 2


def test_without_reveal_the_sheet_says_how_to_get_names(store, qapp, tmp_path):
    from app.views.visit_sheet import pdf_bytes, prepare_visit_sheets

    nurse = open_as(store, "nurse")
    try:
        pid = _assisted_child(nurse)
        before = nurse.conn.execute("SELECT count(*) FROM audit_log WHERE action = 'identity_show'").fetchone()[0]
        sheets, footer = prepare_visit_sheets(nurse, [pid], encrypt=True, passphrase=PASSPHRASE)
        after = nurse.conn.execute("SELECT count(*) FROM audit_log WHERE action = 'identity_show'").fetchone()[0]
    finally:
        nurse.close()
    assert sheets[0].identity is None and after == before
    assert "氏名を表示" in _squash(_pdftotext(pdf_bytes(sheets, footer).pdf, tmp_path))


def test_sealed_by_default_plain_only_when_chosen(store, qapp, tmp_path):
    from app.store.exports import ExportRefused, decrypt_container
    from app.views.visit_sheet import pdf_bytes, prepare_visit_sheets, write_visit_sheet

    nurse = open_as(store, "nurse")
    try:
        pid = _assisted_child(nurse)
        with pytest.raises(ExportRefused):      # plain without the confirmed warning
            prepare_visit_sheets(nurse, [pid], encrypt=False)
        with pytest.raises(ExportRefused):      # sealed without a passphrase
            prepare_visit_sheets(nurse, [pid])
        sheets, footer = prepare_visit_sheets(nurse, [pid], passphrase=PASSPHRASE)
        pdf = pdf_bytes(sheets, footer).pdf
        sealed = write_visit_sheet(nurse, pdf, tmp_path / "s.pdf", passphrase=PASSPHRASE, footer=footer)
        with pytest.raises(ExportRefused):
            write_visit_sheet(nurse, pdf, tmp_path / "p.pdf", encrypt=False)
        plain = write_visit_sheet(nurse, pdf, tmp_path / "p.pdf", encrypt=False, plaintext_confirmed=True)
    finally:
        nurse.close()
    assert sealed.name == "s.pdf.mmx" and not sealed.read_bytes().startswith(b"%PDF")
    header, payload = decrypt_container(sealed.read_bytes(), PASSPHRASE)
    assert payload == pdf and header["content_type"] == "pdf"
    assert plain.read_bytes().startswith(b"%PDF")


def test_default_file_name_is_dated():
    import datetime as dt

    from app.views.visit_sheet import default_file_name

    assert default_file_name(["1609288"], today=dt.date(2026, 11, 29)) == "訪問シート_20261129_1609288.pdf.mmx"
    assert default_file_name(["1", "2"], encrypt=False, today=dt.date(2026, 1, 2)) == "訪問シート_20260102_2人.pdf"


def test_staffing_plan_pdf_text_layer_is_real_text(qapp, tmp_path):
    """The other Qt PDF (the chief's staffing plan) draws with the same print font."""
    from app.views.staffing_view import plan_pdf_bytes

    drawn = "保健師配置計画 大津 逸見 衣笠 本庁 久里浜 1,234人 うちベテラン 6人"
    text = _pdftotext(plan_pdf_bytes(f"<p>{drawn}</p>", "出力者: chief"), tmp_path)
    assert not RADICALS.search(text)
    assert _squash(drawn) in _squash(text)


def test_household_lines_print_only_the_members_non_never_flags():
    """With the store's per-member class (``printable_flags``), a mother's ✕ flag stays off the sheet."""
    ev = _public_assistance_evidence()
    ev.household = ev.household.assign(flags=["生活保護受給世帯・産後うつ（EPDS）", ""],
                                       printable_flags=["産後うつ（EPDS）", ""])
    sheet = build_sheet(ev)
    lines = [f.text for f in sheet.staff if f.text.startswith("世帯")]
    assert lines == ["世帯 母 あ-1：産後うつ（EPDS）"]
    assert "生活保護" not in _sheet_text(sheet)
