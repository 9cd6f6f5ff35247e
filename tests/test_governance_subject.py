"""The family's subject-access report (開示請求): a hand-made child with records in several
sources, the mother's records in the household, and what the officer gets."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from app.commands import main
from app.engine import subject_access as engine
from app.store import roles
from app.store.database import transaction
from app.store.queries.subject_access import SubjectNotFound, subject_records
from conftest import PASSWORD, open_as

CHILD, MOTHER, OTHER = "C0000001", "M0000001", "C0000099"
# (person, date, type, subtype, value_num, value_text, source, file, line, disclosure)
EVENTS = [
    (CHILD, "2024-06-10", "checkup", "4m", None, "attended", "kenshin", "kenshin.csv", 12, "discuss"),
    (CHILD, "2024-06-10", "weight", "", 6.4, "", "kenshin", "kenshin.csv", 12, "discuss"),
    (CHILD, "2024-08-01", "vaccination", "Hib", 1, "", "yobo", "yobo.csv", 40, "discuss"),
    (CHILD, "2024-11-20", "custody", "一時保護", None, "", "jisou", "jisou.csv", 3, "never"),
    (MOTHER, "2024-05-02", "epds", "", 12, "", "epds", "epds.csv", 7, "discuss"),
    (MOTHER, "2024-09-15", "dv", "相談", None, "", "dv", "dv.csv", 2, "never"),
    (OTHER, "2024-07-01", "checkup", "4m", None, "attended", "kenshin", "kenshin.csv", 13, "discuss"),
]


@pytest.fixture
def store(store_with_roles):
    s = store_with_roles
    c = s.conn
    with transaction(c):
        for pid, kind, hh, mother in ((CHILD, "child", "H1", MOTHER), (MOTHER, "adult", "H1", ""),
                                      (OTHER, "child", "H2", "")):
            c.execute("INSERT INTO persons(person_id, kind, sex, birth_ym, household_id, district, town, mother_id)"
                      " VALUES (?,?,?,?,?,?,?,?)", (pid, kind, "F", "2024-02" if kind == "child" else "1995-04",
                                                    hh, "本町", "本町1丁目", mother))
        c.execute("INSERT INTO identities(person_id, name_kanji, name_kana, birth_date, resident_numbers)"
                  " VALUES (?,?,?,?,?)", (CHILD, "見守 花子", "ミマモリ ハナコ", "2024-02-11", '["0012345", "0098765"]'))
        for e in EVENTS:
            c.execute("INSERT INTO events(person_id, household_id, date, type, subtype, value_num, value_text, source,"
                      " source_file, source_line, disclosure) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (e[0], "H1", *e[1:]))
        for source, file, as_of in (("kenshin", "kenshin.csv", "2024-12-31"), ("yobo", "yobo.csv", "2024-12-15"),
                                    ("jisou", "jisou.csv", "2024-12-01"), ("epds", "epds.csv", "2024-11-30"),
                                    ("dv", "dv.csv", "2024-10-31")):
            c.execute("INSERT INTO sources(source, file_name, as_of, delivery_id, rows_read, rows_imported,"
                      " rows_quarantined) VALUES (?,?,?,1,1,1,0)", (source, file, as_of))
        c.execute("INSERT INTO followups(person_id, status, action_date, note, user, recorded_at)"
                  " VALUES (?,?,?,?,?,?)", (CHILD, "訪問済み", "2025-01-10", "体重増加良好", "nurse", "2025-01-10T10:00:00"))
        c.execute("INSERT INTO runs(created_at, created_by, target, ruleset_id, ruleset_version, ruleset_text, as_of)"
                  " VALUES ('2025-01-05','admin','abuse','default',1,'','2025-01-01')")
        run = c.execute("SELECT max(run_id) FROM runs").fetchone()[0]
        c.execute("INSERT INTO flags(run_id, person_id, rule_id, flagged, reason, label, disclosure, restricted, last_date)"
                  " VALUES (?,?,?,?,?,?,?,?,?)", (run, CHILD, "custody_history", 1, "一時保護歴あり", "児相関与",
                                                  "never", "custody", "2024-11-20"))
        c.execute("INSERT INTO flags(run_id, person_id, rule_id, flagged, reason, label, disclosure, last_date)"
                  " VALUES (?,?,?,?,?,?,?,?)", (run, CHILD, "vacc_late", 0, "", "予防接種の遅れ", "discuss", None))
        c.execute("INSERT INTO scores(run_id, person_id, target, score, probability, rank) VALUES (?,?,?,?,?,?)",
                  (run, CHILD, "abuse", 0.8123, 0.2, 4))
    return s


def test_report_holds_every_record_with_class_and_candidates(store):
    report = subject_records(store, CHILD)
    assert list(report.columns) == engine.COLUMNS
    assert set(report["研究用ID"]) == {CHILD}
    by_kind = report["区分"].value_counts().to_dict()
    # identity: name, kana, birth date, 宛名番号; person: kind, birth_ym, district, town (nationality blank)
    assert by_kind["本人情報"] == 4 + 4
    assert report.loc[report["項目"] == "宛名番号", "値"].tolist() == ["0012345、0098765"]
    assert by_kind["記録"] == 4                       # every event of the child, ✕ included
    assert by_kind["フォローアップ"] == 1
    assert by_kind["判定結果"] == 2                    # the flagged rule (not the unflagged one) and the score
    custody = report[report["データ種別"] == "児童相談所記録"].iloc[0]
    assert custody["開示区分"].startswith("✕") and custody["不開示候補の理由"].startswith("児童相談所")
    assert custody["日付"] == "2024-11-20" and custody["抽出日"] == "2024-12-01" and custody["出所"] == "jisou.csv:3行"
    weight = report[report["項目"].str.contains("体重")].iloc[0]
    assert weight["値"] == "6.4" and weight["開示区分"].startswith("○") and weight["不開示候補の理由"] == ""
    assert (report["開示判断（開示/不開示）"] == "").all() and (report["判断理由"] == "").all()
    name = report[report["項目"] == "氏名"].iloc[0]
    assert name["値"] == "見守 花子"
    flag = report[report["データ種別"] == "見守り（抽出ルール）"].iloc[0]
    assert flag["開示区分"].startswith("✕") and flag["値"] == "一時保護歴あり"
    # Nobody else's records.
    assert not report["出所"].str.contains("kenshin.csv:13").any()


def test_household_adds_the_mothers_records_after_the_child(store):
    report = subject_records(store, CHILD, household=True)
    assert list(dict.fromkeys(report["研究用ID"])) == [CHILD, MOTHER]
    mother = report[report["研究用ID"] == MOTHER]
    assert set(mother["続柄"]) == {"母"}
    dv = mother[mother["データ種別"] == catalogue_label("dv")].iloc[0]
    assert dv["開示区分"].startswith("✕") and dv["不開示候補の理由"].startswith("DV")
    assert (mother["データ種別"] == catalogue_label("epds")).sum() == 1
    assert OTHER not in set(report["研究用ID"])


def catalogue_label(key):
    from app.engine import catalogue

    return catalogue.source_label(key)


def test_every_read_is_audited(store):
    subject_records(store, CHILD, household=True)
    row = store.conn.execute("SELECT object_ids, detail FROM audit_log WHERE action='subject_access'").fetchone()
    assert set(json.loads(row[0])) == {CHILD, MOTHER}
    detail = json.loads(row[1])
    assert detail["requester"] == CHILD and detail["household"] is True and detail["rows"] > 10


def test_unknown_person_and_other_roles_are_refused(store):
    with pytest.raises(SubjectNotFound, match="記録はありません"):
        subject_records(store, "NOBODY")
    for user in ("nurse", "manager", "chief", "auditor"):
        session = open_as(store.db_path, user)
        with pytest.raises(roles.AccessDenied):
            subject_records(session, CHILD)
        session.close()


def test_engine_is_pure_pandas():
    members = pd.DataFrame({"person_id": ["A"], "relation": ["本人"]})
    events = pd.DataFrame([{"person_id": "A", "date": pd.Timestamp("2024-01-02"), "type": "dv", "subtype": "",
                            "value_num": float("nan"), "value_text": "", "source": "dv", "source_file": "dv.csv",
                            "source_line": 5, "disclosure": "staff"}])
    report = engine.build_report(members, events=events)
    assert len(report) == 1 and report["開示区分"].iloc[0].startswith("✕")  # DV is ✕ whatever the row says
    assert engine.build_report(members).empty


@pytest.fixture
def cli_store(store, tmp_path):
    from app.store.terminals import register_terminal

    register_terminal(store, "窓口端末")
    store.close()
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSWORD + "\n")
    return store.db_path, pw


def test_cli_plaintext_csv_has_all_rows(cli_store, tmp_path, capsys):
    db, pw = cli_store
    out = tmp_path / "kaiji.csv"
    code = main(["export", "--db", str(db), "--user", "admin", "--password-file", str(pw), "--what", "subject",
                 "--person", CHILD, "--household", "--plaintext", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    text = out.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == engine.COLUMNS
    body = [r for r in rows[1:] if r and not r[0].startswith("#")]
    assert any("児童相談所" in r[9 + 1] for r in body)     # the ✕ custody row is there, marked
    assert any(r[0] == MOTHER for r in body)
    assert rows[-1][0].startswith("# 出力者: admin")


def test_cli_encrypted_by_default_and_pdf(cli_store, tmp_path, capsys, monkeypatch):
    from app.store.exports import decrypt_container

    db, pw = cli_store
    monkeypatch.setenv("MIMAMORI_EXPORT_PASSPHRASE", "kaiji-pass-2025")
    out = tmp_path / "kaiji.csv"
    assert main(["export", "--db", str(db), "--user", "admin", "--password-file", str(pw), "--what", "subject",
                 "--person", CHILD, "--out", str(out)]) == 0
    sealed = tmp_path / "kaiji.csv.mmx"
    assert sealed.exists() and not out.exists()
    header, payload = decrypt_container(sealed.read_bytes(), "kaiji-pass-2025")
    assert "見守 花子" in payload.decode("utf-8-sig")
    assert CHILD.encode() not in sealed.read_bytes()
    pdf = tmp_path / "kaiji.pdf"
    code = main(["export", "--db", str(db), "--user", "admin", "--password-file", str(pw), "--what", "subject",
                 "--person", CHILD, "--plaintext", "--out", str(pdf)])
    assert code == 0, capsys.readouterr().err
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_cli_bad_requests_are_one_line(cli_store, tmp_path, capsys):
    db, pw = cli_store
    base = ["export", "--db", str(db), "--password-file", str(pw), "--what", "subject", "--plaintext",
            "--out", str(tmp_path / "x.csv")]
    for extra, expected in ((["--user", "admin"], "--person"),
                            (["--user", "admin", "--person", "NOBODY"], "記録はありません"),
                            (["--user", "nurse", "--person", CHILD], "権限")):
        code = main(base + extra)
        err = capsys.readouterr().err
        assert code != 0 and err.count("\n") == 1 and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "x.csv").exists()
