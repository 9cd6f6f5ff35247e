"""Roles and what each may do. The single table every query checks (DOMAIN.md, "Users").

Capabilities are checked where data is read (``Session.require`` at the top of every
query in ``app/store/queries``), never only by hiding widgets.
"""

from __future__ import annotations

NURSE, CG_MANAGER, CHIEF, DATA_ADMIN, AUDITOR = "nurse", "cg_manager", "chief", "data_admin", "auditor"
ROLES = (NURSE, CG_MANAGER, CHIEF, DATA_ADMIN, AUDITOR)

ROLE_LABELS_JA = {
    NURSE: "保健師",
    CG_MANAGER: "児童相談所 管理職",
    CHIEF: "課長",
    DATA_ADMIN: "データ管理担当 (DX推進課)",
    AUDITOR: "監査担当",
}

# Person-level case data (lists, evidence, flags and reasons) within the user's area.
VIEW_CHILDREN = "view_children"
# One child's chronological record.
VIEW_TIMELINE = "view_timeline"
# The numeric score and probability (prejudice risk: managers only).
VIEW_SCORE = "view_score"
# Child-guidance (一時保護/通告/相談) records, the ground truth.
VIEW_CUSTODY = "view_custody"
# Real names, birth dates, addresses — each read logged.
REIDENTIFY = "reidentify"
# District aggregates with small counts suppressed.
VIEW_AGGREGATES = "view_aggregates"
PLAN_STAFFING = "plan_staffing"
RECORD_FOLLOWUP = "record_followup"
PRINT_VISIT_SHEET = "print_visit_sheet"
IMPORT = "import"
VIEW_QUARANTINE = "view_quarantine"
REVIEW_LINKAGE = "review_linkage"
MANAGE_RULES = "manage_rules"
RUN_SCORING = "run_scoring"
MANAGE_USERS = "manage_users"
MANAGE_TERMINALS = "manage_terminals"
DELETE_DATA = "delete_data"
VIEW_AUDIT = "view_audit"
EXPORT_LIST = "export_list"
EXPORT_FLAGS = "export_flags"
EXPORT_IDMAP = "export_idmap"
EXPORT_AUDIT = "export_audit"
EXPORT_PLAN = "export_plan"
# The family's subject-access report (開示請求): every record about one person, ✕ included,
# for the disclosure officer to decide on (docs/SECURITY.md says why data_admin).
EXPORT_SUBJECT = "export_subject"

CAPABILITIES: dict[str, frozenset[str]] = {
    # a nurse exports her own list (her area, her order, no score) through the export gate
    NURSE: frozenset({VIEW_CHILDREN, VIEW_TIMELINE, REIDENTIFY, RECORD_FOLLOWUP, PRINT_VISIT_SHEET, EXPORT_LIST}),
    CG_MANAGER: frozenset({
        VIEW_CHILDREN, VIEW_TIMELINE, VIEW_SCORE, VIEW_CUSTODY, REIDENTIFY, VIEW_AGGREGATES,
        RECORD_FOLLOWUP, PRINT_VISIT_SHEET, RUN_SCORING, EXPORT_LIST, EXPORT_FLAGS,
    }),
    CHIEF: frozenset({VIEW_AGGREGATES, PLAN_STAFFING, EXPORT_PLAN}),
    DATA_ADMIN: frozenset({
        IMPORT, VIEW_QUARANTINE, REVIEW_LINKAGE, MANAGE_RULES, RUN_SCORING, MANAGE_USERS,
        MANAGE_TERMINALS, DELETE_DATA, VIEW_AGGREGATES, EXPORT_IDMAP, EXPORT_FLAGS, EXPORT_SUBJECT,
    }),
    AUDITOR: frozenset({VIEW_AUDIT, EXPORT_AUDIT}),
}


def capabilities(role: str) -> frozenset[str]:
    return CAPABILITIES.get(role, frozenset())


class AccessDenied(PermissionError):
    """A role asked for data it may not see. The message is for the user (Japanese)."""

    def __init__(self, capability: str, role: str):
        label = ROLE_LABELS_JA.get(role, role)
        super().__init__(f"この操作は{label}の権限では行えません（{capability}）")
        self.capability = capability
        self.role = role
