"""The append-only, hash-chained audit log.

Each entry's hash covers its fields and the previous entry's hash, so changing,
deleting or reordering any entry breaks the chain from that point on; ``verify`` names
the first broken entry. Triggers refuse UPDATE and DELETE inside SQLite; the chain
catches edits made around them (e.g. with a copied key and another SQLite client).

A hash chain alone can be rebuilt from scratch by whoever rewrites it. So every
``ANCHOR_EVERY`` entries the current hash is sealed with an HMAC keyed by a secret that
never leaves the encrypted store (``audit_anchors``), and the newest entry is sealed the
same way in ``meta`` ("audit_head") so that cutting entries off the end is caught too.

Both seals live inside the store, so whoever holds the DB key can re-seal a rewritten log
(docs/SECURITY.md, insider C). Two heads outside the database catch what they cannot: a copy
in the key-slot file (``outside_head``, sealed with the anchor secret, written at login and
logout) catches a store file replaced by an older copy; the auditor's kept head
(``kept_head`` / ``check_against``) lives off the terminal and catches any rollback,
truncation or rewrite of the entries it covers, whoever did it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from app.store import meta

GENESIS = "0" * 64
ANCHOR_EVERY = 50
_HEAD_KEY = "audit_head"

# Action names other modules write; the auditor's unusual-access report reads these.
VIEW_CHILD = "view_child"            # a child's list row opened / timeline shown
IDENTITY_SHOW = "identity_show"      # real name / birth date shown (re-identification)
CHILD_ACCESS_ACTIONS = (VIEW_CHILD, IDENTITY_SHOW, "view_timeline", "print_visit_sheet")
EXPORT = "export"
PRINT = "print"
DELETION = "deletion"
_FIELDS = ("seq", "ts", "user", "role", "terminal", "action", "object_type", "object_ids", "detail")


def _entry_hash(prev_hash: str, row: dict) -> str:
    payload = json.dumps([prev_hash] + [row[f] for f in _FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def record(conn, *, user: str, role: str, terminal: str, action: str,
           object_type: str | None = None, object_ids=(), detail: dict | None = None,
           ts: str | None = None) -> int:
    """Append one entry; returns its sequence number. Pass ids, never case contents."""
    last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    row = {
        "seq": seq, "ts": ts or now_iso(), "user": user, "role": role, "terminal": terminal,
        "action": action, "object_type": object_type,
        "object_ids": json.dumps([str(i) for i in object_ids], ensure_ascii=False),
        "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
    }
    row_hash = _entry_hash(prev, row)
    conn.execute(
        "INSERT INTO audit_log(seq, ts, user, role, terminal, action, object_type, object_ids,"
        " detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (*[row[f] for f in _FIELDS], prev, row_hash))
    key = _anchor_key(conn)
    if seq % ANCHOR_EVERY == 0:
        conn.execute("INSERT INTO audit_anchors(seq, hash, mac) VALUES (?,?,?)",
                     (seq, row_hash, _seal(key, seq, row_hash)))
    meta.put(conn, _HEAD_KEY, json.dumps({"seq": seq, "hash": row_hash, "mac": _seal(key, seq, row_hash)}))
    return seq


def _anchor_key(conn) -> bytes:
    return meta.secret(conn, "audit_anchor_key")


def _seal(key: bytes, seq: int, row_hash: str) -> str:
    return hmac.new(key, f"{seq}:{row_hash}".encode("ascii"), hashlib.sha256).hexdigest()


@dataclass
class Verification:
    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""


def has_history(conn) -> bool:
    """A store that was ever used: it has a creation date and accounts (so at least one entry)."""
    if meta.get(conn, "created_at") is not None:
        return True
    return conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0


def last_entry(conn) -> tuple[int, str]:
    """(seq, hash) of the newest entry; (0, GENESIS) for an empty log."""
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), row[1]) if row else (0, GENESIS)


def extends(conn, seq: int, row_hash: str) -> str | None:
    """Why the log does not extend the head (seq, hash), or None when it does."""
    last, _ = last_entry(conn)
    if last < seq:
        return (f"ログは {last} 件目で終わっていますが、{seq} 件目が存在していました"
                "（古い複製に戻されたか、末尾の記録が削除されています）")
    row = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return f"{seq} 件目の記録がありません"
    if row[0] != row_hash:
        return f"{seq} 件目の記録が以前と異なります（過去の記録が書き換えられたか、別のデータベースです）"
    return None


def outside_head(conn) -> dict:
    """The newest entry, sealed for keeping outside the database (the key-slot file)."""
    seq, row_hash = last_entry(conn)
    return {"seq": seq, "hash": row_hash,
            "mac": _seal(_anchor_key(conn), seq, "outside:" + row_hash)}


def check_outside_head(conn, head: dict | None) -> str | None:
    """Why the store does not extend the head kept in the key-slot file, or None."""
    if not head:
        return None
    try:
        seq, row_hash, mac = int(head["seq"]), str(head["hash"]), str(head["mac"])
    except (KeyError, TypeError, ValueError):
        return "鍵ファイルに保管した操作ログの末尾情報が読めません（編集されています）"
    if not hmac.compare_digest(mac, _seal(_anchor_key(conn), seq, "outside:" + row_hash)):
        return "鍵ファイルに保管した操作ログの末尾情報がこのデータベースのものではありません（偽造、または別のデータベースの鍵ファイル）"
    reason = extends(conn, seq, row_hash)
    if reason:
        return "データベースが鍵ファイルに保管した操作ログの末尾情報より古くなっています: " + reason
    return None


def sync_outside_head(conn, db_path) -> bool:
    """Write the newest head into the key-slot file, but only over a head the store extends:
    after a rollback the older head stays there as evidence until a data_admin acknowledges
    the restore (``accept_restore``). Returns True when written."""
    from app.store.keyslots import SlotFile

    slots = SlotFile.load(db_path)
    if check_outside_head(conn, slots.audit_head) is not None:
        return False
    head = outside_head(conn)
    if slots.audit_head and int(slots.audit_head.get("seq", -1)) == head["seq"]:
        return True
    slots.set_audit_head(head)
    slots.save()
    return True


def accept_restore(conn, db_path, *, user: str, role: str, terminal: str, reason: str = "") -> int:
    """A data_admin's acknowledgement that the store was restored from an older copy: both
    heads go into the log (the restore is recorded, not hidden), then the slot head moves on."""
    from app.store.keyslots import SlotFile

    slots = SlotFile.load(db_path)
    old = slots.audit_head or {}
    seq, row_hash = last_entry(conn)
    entry = record(conn, user=user, role=role, terminal=terminal, action="restore_acknowledged",
                   detail={"slot_head_seq": old.get("seq"), "slot_head_hash": old.get("hash"),
                           "store_head_seq": seq, "store_head_hash": row_hash, "reason": reason})
    return entry


def write_outside_head(conn, db_path) -> None:
    """Overwrite the key-slot file's head (after ``accept_restore`` was committed)."""
    from app.store.keyslots import SlotFile

    slots = SlotFile.load(db_path)
    slots.set_audit_head(outside_head(conn))
    slots.save()


KEPT_HEAD_FORMAT = "mimamori-audit-head/1"


def kept_head(conn, saved_by: str, grant_key: str | None = None) -> dict:
    """The head the auditor keeps off the terminal: count, hash, time (and the signing key)."""
    seq, row_hash = last_entry(conn)
    return {"format": KEPT_HEAD_FORMAT, "store_created_at": meta.get(conn, "created_at"),
            "count": seq, "hash": row_hash, "saved_at": now_iso(), "saved_by": saved_by,
            "grant_key": grant_key}


def check_against(conn, kept: dict, grant_key: str | None = None) -> str | None:
    """Why the store no longer extends the auditor's kept head, or None."""
    if kept.get("format") != KEPT_HEAD_FORMAT:
        return "見守りの操作ログ末尾ファイルではありません"
    if kept.get("store_created_at") not in (None, meta.get(conn, "created_at")):
        return "操作ログ末尾ファイルは別のデータベースのものです（作成日が異なります）"
    reason = extends(conn, int(kept["count"]), str(kept["hash"]))
    if reason:
        return f"{kept.get('saved_at', '?')} に保管した操作ログの末尾から続いていません: {reason}"
    if kept.get("grant_key") and grant_key != kept["grant_key"]:
        return "末尾の保管後にアカウント署名鍵が変わっています（アプリケーションの外で権限が署名し直されました）"
    return None


def verify(conn) -> Verification:
    """Check the chain, its HMAC anchors and the sealed head; report the first broken entry.

    Modified, deleted and reordered entries break the chain itself. A chain rebuilt from
    scratch passes the SHA-256 walk but not the anchors; entries cut off the end (or
    appended around the application) do not match the sealed head.
    """
    findings: list[tuple[int, str]] = []
    hashes: dict[int, str] = {}
    prev, expected_seq, count = GENESIS, 1, 0
    cursor = conn.execute(
        "SELECT seq, ts, user, role, terminal, action, object_type, object_ids, detail,"
        " prev_hash, hash FROM audit_log ORDER BY seq")
    for values in cursor:
        row = dict(zip(_FIELDS, values[:9]))
        count += 1
        hashes[row["seq"]] = values[10]
        if findings:
            continue
        if row["seq"] != expected_seq:
            findings.append((expected_seq, f"{expected_seq} 件目の記録がありません（次は {row['seq']} 件目）"))
        elif values[9] != prev:
            findings.append((row["seq"], "直前の記録に続いていません（並べ替えまたは削除）"))
        elif _entry_hash(prev, row) != values[10]:
            findings.append((row["seq"], "内容が書き換えられています"))
        prev, expected_seq = values[10], row["seq"] + 1
    key = _anchor_key(conn)
    last_good = 0
    for seq, row_hash, mac in conn.execute("SELECT seq, hash, mac FROM audit_anchors ORDER BY seq"):
        if not hmac.compare_digest(mac, _seal(key, seq, row_hash)):
            findings.append((seq, f"{seq} 件目の封印（アンカー）が偽造されています"))
            break
        if seq not in hashes:
            findings.append((seq, f"封印された {seq} 件目の記録がありません"))
            break
        if hashes[seq] != row_hash:
            findings.append((last_good + 1, f"{last_good + 1}～{seq} 件目が書き換えられています（{seq} 件目の封印と一致しません）"))
            break
        last_good = seq
    head_text = meta.get(conn, _HEAD_KEY)
    last_seq = max(hashes) if hashes else 0
    if head_text is None:
        if hashes:
            findings.append((1, "ログ末尾の封印がありません"))
    else:
        head = json.loads(head_text)
        if not hmac.compare_digest(head["mac"], _seal(key, head["seq"], head["hash"])):
            findings.append((min(head["seq"], last_seq) or 1, "ログ末尾の封印が偽造されています"))
        elif last_seq < head["seq"]:
            findings.append((last_seq + 1, f"末尾の {last_seq + 1}～{head['seq']} 件目が削除されています"))
        elif last_seq > head["seq"]:
            findings.append((head["seq"] + 1, f"{head['seq']} 件目より後の記録がアプリケーションの外で追加されています"))
        elif hashes.get(last_seq) != head["hash"]:
            findings.append((last_good + 1, "最新の記録が末尾の封印と一致しません（書き換えられています）"))
    if count == 0 and has_history(conn):
        findings.append((1, "ログが空ですが、データベースには利用の履歴（アカウント・作成日）があります"))
    elif count and meta.get(conn, "created_at") is not None:
        first = conn.execute("SELECT action FROM audit_log WHERE seq = 1").fetchone()
        if first is None or first[0] != "store_create":
            # A log emptied and restarted: its first entry is not the store's creation.
            findings.append((1, "ログがデータベース作成の記録から始まっていません（空にして記録し直されています）"))
    if findings:
        first, reason = min(findings, key=lambda f: f[0])
        return Verification(False, count, first, reason)
    return Verification(True, count)
