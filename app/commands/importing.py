"""``python -m app import --db PATH DIR``: import a delivery folder into the store."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from app.commands.errors import CommandError
from app.commands.session_args import add_login_args, denied, open_session


def register(sub) -> None:
    p = sub.add_parser("import", help="import a delivery folder (data_admin): read, link, store")
    add_login_args(p)
    p.add_argument("folder", type=Path, metavar="DIR", help="delivery folder (CSV/UKE + manifest.csv)")
    p.set_defaults(func=run)


def run(args) -> int:
    from app.store.importing import ImportFailed, import_delivery
    from app.store.roles import AccessDenied

    session = open_session(args)
    t0 = time.perf_counter()
    try:
        summary = import_delivery(session, args.folder)
        if not summary.already_imported:
            from app.store.staffing_plans import store_boundaries

            # District and town outlines for the map travel with the delivery.
            store_boundaries(session, args.folder)
    except AccessDenied as exc:
        raise denied(exc) from None
    except ImportFailed as exc:
        raise CommandError(f"取り込みを中止しました（データベースは変更していません）: {exc.file}: {exc.reason}") from None
    finally:
        elapsed = time.perf_counter() - t0
        session.close()
    if summary.already_imported:
        print(f"同じ納品データは取り込み済みです（納品ID {summary.delivery_id}）。変更はありません。")
        return 0
    out = sys.stdout
    print(f"納品ID {summary.delivery_id}: {elapsed:.1f} 秒", file=out)
    print("ファイル\t種別\t抽出日\t読込\t取込\t保留(隔離)", file=out)
    for f in summary.files:
        print(f"{f.file}\t{f.source}\t{f.as_of}\t{f.rows_read}\t{f.rows_imported}\t{f.rows_quarantined}", file=out)
    print(f"人: {summary.persons}  出来事: {summary.events}  確認待ち: {summary.review}  "
          f"重複リスト: {summary.duplicates}  隔離行: {summary.quarantined}", file=out)
    if summary.ignored_files:
        print("種別が分からず読まなかったファイル: " + "、".join(summary.ignored_files), file=out)
    if not summary.reconciled():
        raise CommandError("件数が合いません（読込 ≠ 取込 + 隔離）")
    return 0
