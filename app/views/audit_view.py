"""The auditor's view: the log filtered by user, action and period; chain verification;
the unusual-access report; export of the log through the export gate."""

from __future__ import annotations

import functools
import json

from PySide6.QtCore import QCoreApplication, QDate
from PySide6.QtWidgets import (
    QComboBox, QDateEdit, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QLineEdit,
    QMessageBox, QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from app.engine.japanese_time import format_jst
from app.store.audit_queries import log_facets, search_log, terminal_labels, unusual_access, verify_log
from app.store.exports import PLAINTEXT_WARNING, ExportRefused, export_audit_log


# What each logged action means, for an auditor who reads Japanese (the raw name stays in
# the tooltip and in exports, so searches and exports remain exact).
ACTION_LABELS_JA = {
    "login": "ログイン", "login_failed": "ログイン失敗", "access_denied": "権限のない操作の拒否",
    "login_refused": "ログインの拒否（権限の署名が合わない等）", "user_change": "利用者情報の変更",
    "grants_bootstrap": "権限の署名の作成", "audit_head_saved": "操作ログ末尾情報の保管",
    "restore_acknowledged": "バックアップからの復元の確認", "subject_access": "開示請求の記録の閲覧",
    "session_lock": "画面ロック", "session_unlock": "ロック解除", "unlock_failed": "ロック解除の失敗",
    "logout": "ログアウト", "switch_user": "利用者の切り替え",
    "view_child": "子どもの記録の閲覧", "identity_show": "氏名の表示", "snapshot": "画面の保存",
    "export": "出力", "export_refused": "出力の拒否", "print": "印刷", "deletion": "削除",
    "deletion_request": "削除依頼", "import": "データ取込", "import_failed": "取込の中止",
    "import_skipped": "取込済みのため省略", "linkage_decision": "名寄せの判断",
    "mapping_profile_save": "取込設定の保存", "quarantine_show": "隔離行の閲覧",
    "review_list_show": "確認リストの閲覧", "score_run": "採点", "calibrate": "較正",
    "ruleset_store": "ルールセットの保存", "ruleset_activate": "ルールセットの切替", "run_view": "採点結果の閲覧",
    "record_followup": "フォローの記録", "view_aggregates": "地区集計の閲覧", "staffing_proposal": "配置案の表示",
    "set_district_staff": "地区の人員の入力", "save_staffing_plan": "配置計画の保存",
    "store_boundaries": "地区境界の保存", "store_create": "データベース作成", "terminal_register": "端末の登録",
    "user_add": "ユーザー追加", "user_remove": "ユーザー削除", "password_change": "パスワード変更",
    "setting_change": "設定変更", "retention_confirm": "保存期間の確認", "audit_search": "操作ログの検索",
    "audit_unusual_report": "通常と異なるアクセスの確認", "audit_verify": "改ざん検査",
    "timeline_template_save": "時系列テンプレートの保存", "timeline_template_edit": "時系列テンプレートの編集",
}


# What each entry is about, and each finding of the unusual-access report (stored in English
# codes so searches and exports stay exact; the code is in the cell's tooltip).
OBJECT_LABELS_JA = {
    "person": "子ども・家族", "aggregates": "地区集計", "boundaries": "地区境界", "delivery": "取込データ",
    "district_staff": "地区の人員", "mapping_profile": "取込設定", "quarantine": "隔離行",
    "review_item": "名寄せ確認", "ruleset": "ルールセット", "run": "採点結果", "setting": "設定",
    "source": "データ種別", "staffing_plan": "配置計画", "template": "時系列テンプレート",
    "terminal": "端末", "user": "利用者", "view": "画面",
}
FINDING_LABELS_JA = {"burst": "短時間の大量閲覧", "outside_area": "担当地区外の閲覧"}


@functools.lru_cache(maxsize=1)
def _shipped_titles() -> dict[str, str]:
    """Rule set id → title of the rule sets shipped with the program (no case data)."""
    from app.engine.rules.model import RuleSetError, shipped_ruleset
    from app.resource_files import resource_path

    titles = {}
    for path in sorted(resource_path("rules").glob("*.toml")):
        try:
            rs = shipped_ruleset(path.stem)
        except (OSError, RuleSetError):
            continue
        titles[rs.id] = rs.title
    return titles


def _object_ids(value, object_type: str | None = None) -> str:
    """The stored JSON list of ids as a plain list; codes (a view's key, a target, a data
    source) by their Japanese names. Research IDs, account and terminal names stay as they are."""
    if value is None or value == "":
        return ""
    try:
        ids = json.loads(value)
    except (TypeError, ValueError):
        return str(value)
    if not isinstance(ids, list):
        ids = [ids]
    names: dict = {}
    if object_type == "view":
        from app.views.registry import VIEW_KEYS, view_title
        names = {k: view_title(k) for k in VIEW_KEYS}
    elif object_type in ("aggregates", "staffing_plan", "run"):
        from app.engine.aggregates import TARGET_LABELS
        names = dict(TARGET_LABELS)
    elif object_type == "ruleset":
        from app.views.rules_view import ruleset_name
        return "、".join(ruleset_name(*str(i).rsplit("@", 1), _shipped_titles()) if "@" in str(i) else str(i)
                        for i in ids)
    elif object_type == "source":
        from app.engine.catalogue import source_labels
        names = source_labels()
    return "、".join(str(names.get(i, i)) for i in ids)


def _headers(columns: list[str]) -> list[str]:
    labels = {
        "seq": QCoreApplication.translate("AuditView", "No."),
        "ts": QCoreApplication.translate("AuditView", "Time"),
        "user": QCoreApplication.translate("AuditView", "User"),
        "role": QCoreApplication.translate("AuditView", "Role"),
        "terminal": QCoreApplication.translate("AuditView", "Terminal"),
        "action": QCoreApplication.translate("AuditView", "Action"),
        "object_type": QCoreApplication.translate("AuditView", "Object"),
        "object_ids": QCoreApplication.translate("AuditView", "Object ids"),
        "kind": QCoreApplication.translate("AuditView", "Kind"),
        "first_ts": QCoreApplication.translate("AuditView", "First seen"),
        "last_ts": QCoreApplication.translate("AuditView", "Last seen"),
        "children": QCoreApplication.translate("AuditView", "Children"),
        "note": QCoreApplication.translate("AuditView", "Note"),
    }
    return [labels.get(c, c) for c in columns]


def _fill(table: QTableWidget, frame, columns: list[str], terminals: dict[str, str] | None = None) -> None:
    table.clear()
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels(_headers(columns))
    from app.store.roles import ROLE_LABELS_JA

    # Cell text for a person; the stored code goes to the tooltip (exact searches, exports).
    if "object_ids" in columns and "object_type" in frame and len(frame):
        frame = frame.assign(object_ids=[_object_ids(i, t) for i, t in zip(frame["object_ids"], frame["object_type"])])
    shown = {
        "ts": format_jst, "first_ts": format_jst, "last_ts": format_jst,
        "action": lambda a: ACTION_LABELS_JA.get(a, a),
        "role": lambda r: ROLE_LABELS_JA.get(r, r),
        "object_type": lambda o: OBJECT_LABELS_JA.get(o, o) if o else "",
        "kind": lambda k: FINDING_LABELS_JA.get(k, k),
        "terminal": lambda t: (terminals or {}).get(t, t),
    }
    coded = {"action", "object_type", "kind", "role"} | ({"terminal"} if terminals else set())
    table.setRowCount(len(frame))
    for r, row in enumerate(frame[columns].itertuples(index=False)):
        for c, value in enumerate(row):
            column = columns[c]
            if value is None:
                text = ""
            elif column in shown:
                text = shown[column](value)
            else:
                text = str(value)
            item = QTableWidgetItem(text)
            if column in coded and value:
                item.setToolTip(QCoreApplication.translate("AuditView", "Recorded as: %1").replace("%1", str(value)))
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


class AuditView(QWidget):
    def __init__(self, context, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self._ready = False
        self._terminals: dict[str, str] = {}   # registered terminals' names (terminal_labels)
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.user_combo = QComboBox()
        self.action_combo = QComboBox()
        self.start_edit = QDateEdit(QDate.currentDate().addMonths(-1))
        self.end_edit = QDateEdit(QDate.currentDate())
        for edit in (self.start_edit, self.end_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy/MM/dd")
        filters.addWidget(QLabel(self.tr("User")))
        filters.addWidget(self.user_combo)
        filters.addWidget(QLabel(self.tr("Action")))
        filters.addWidget(self.action_combo)
        filters.addWidget(QLabel(self.tr("From")))
        filters.addWidget(self.start_edit)
        filters.addWidget(QLabel(self.tr("To")))
        filters.addWidget(self.end_edit)
        self.search_button = QPushButton(self.tr("Search"))
        self.search_button.clicked.connect(self.search)
        filters.addWidget(self.search_button)
        filters.addStretch(1)
        self.verify_button = QPushButton(self.tr("Verify chain"))
        self.verify_button.clicked.connect(self.verify)
        filters.addWidget(self.verify_button)
        self.export_button = QPushButton(self.tr("Export log…"))
        self.export_button.clicked.connect(self.export)
        filters.addWidget(self.export_button)
        layout.addLayout(filters)
        self.status_label = QLabel("")
        self.status_label.setObjectName("auditStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.tabs = QTabWidget()
        self.log_table = QTableWidget()
        self.log_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.unusual_table = QTableWidget()
        self.unusual_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.tabs.addTab(self.log_table, self.tr("Log"))
        self.tabs.addTab(self.unusual_table, self.tr("Unusual access"))
        layout.addWidget(self.tabs, 1)
        self.context.worker.run(log_facets, context.session, key="audit.facets", on_done=self._facets,
                                on_error=self._error)

    def is_ready(self) -> bool:
        return self._ready

    def _facets(self, facets: dict) -> None:
        self.user_combo.addItem(self.tr("(all users)"), None)
        for user in facets["users"]:
            self.user_combo.addItem(user, user)
        self.action_combo.addItem(self.tr("(all actions)"), None)
        for action in facets["actions"]:
            self.action_combo.addItem(ACTION_LABELS_JA.get(action, action), action)
        self.search()

    def filters(self) -> dict:
        return {"user": self.user_combo.currentData(), "action": self.action_combo.currentData(),
                "start": self.start_edit.date().toString("yyyy-MM-dd"),
                "end": self.end_edit.date().toString("yyyy-MM-dd")}

    def search(self) -> None:
        f = self.filters()
        session = self.context.session
        # (the worker runs tasks in order: the names are there when the log arrives)
        self.context.worker.run(terminal_labels, session, key="audit.terminals", on_done=self._set_terminals,
                                on_error=self._error)
        self.context.worker.run(search_log, session, **f, key="audit.log", on_done=self._show_log,
                                on_error=self._error)
        self.context.worker.run(unusual_access, session, f["start"], f["end"], key="audit.unusual",
                                on_done=self._show_unusual, on_error=self._error)

    def _set_terminals(self, labels: dict[str, str]) -> None:
        self._terminals = labels

    def _show_log(self, frame) -> None:
        _fill(self.log_table, frame, ["seq", "ts", "user", "role", "terminal", "action", "object_type", "object_ids"],
              self._terminals)
        self.status_label.setText(self.tr("%1 entries").replace("%1", str(len(frame))))

    def _show_unusual(self, frame) -> None:
        _fill(self.unusual_table, frame, ["kind", "user", "first_ts", "last_ts", "children", "note"])
        self.tabs.setTabText(1, self.tr("Unusual access (%1)").replace("%1", str(len(frame))))
        self._ready = True

    def verify(self) -> None:
        self.context.worker.run(verify_log, self.context.session, on_done=self._verified, on_error=self._error)

    def _verified(self, result) -> None:
        if result.ok:
            self.status_label.setText(self.tr("Audit log intact: %1 entries.").replace("%1", str(result.entries)))
        elif result.first_broken is None:
            # The chain itself is intact; the damage is elsewhere (the file, the head kept in the
            # key-slot file, an account's grant): there is no entry number to name.
            self.status_label.setText(self.tr("Tampering check failed: %1").replace("%1", result.reason))
        else:
            self.status_label.setText(self.tr("Audit log broken at entry %1: %2")
                                      .replace("%1", str(result.first_broken)).replace("%2", result.reason))

    def export(self) -> None:
        """The gate first (terminal, role; a refusal names who can register it), then the dialogs."""
        from app.store.roles import EXPORT_AUDIT
        from app.views.export_dialogs import precheck_then
        precheck_then(self, self.context.worker, self.context.session, EXPORT_AUDIT, self.tr("Export log"),
                      self._export_checked)

    def _export_checked(self) -> None:
        plain = QMessageBox.question(
            self, self.tr("Export log"), self.tr("Write the export encrypted (recommended)?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No) == QMessageBox.StandardButton.No
        passphrase = None
        if plain:
            if QMessageBox.warning(self, self.tr("Export log"), PLAINTEXT_WARNING,
                                   QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel
                                   ) != QMessageBox.StandardButton.Ok:
                return
        else:
            passphrase, ok = QInputDialog.getText(self, self.tr("Export log"),
                                                  self.tr("Passphrase for the encrypted file:"),
                                                  QLineEdit.EchoMode.Password)
            if not ok:
                return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export log"), "audit_log.csv")
        if path:
            self.export_to(path, passphrase=passphrase, plaintext_confirmed=plain)

    def export_to(self, path: str, passphrase: str | None = None, plaintext_confirmed: bool = False) -> None:
        """Export the current filter through the gate (also used by tests)."""
        self.context.worker.run(export_audit_log, self.context.session, path, encrypt=not plaintext_confirmed,
                                passphrase=passphrase, plaintext_confirmed=plaintext_confirmed,
                                **self.filters(), on_done=self._exported, on_error=self._error)

    def _exported(self, result) -> None:
        self.status_label.setText(self.tr("Exported %1 entries to %2")
                                  .replace("%1", str(result.rows)).replace("%2", str(result.path)))

    def _error(self, error: BaseException) -> None:
        self.status_label.setText(str(error) if isinstance(error, (ExportRefused, PermissionError, ValueError))
                                  else self.tr("The operation failed."))
