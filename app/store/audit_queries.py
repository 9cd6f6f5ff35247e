"""Role-checked access to the audit log (auditor; data_admin may verify the chain)."""

from __future__ import annotations

from app.store import audit, roles


def verify_log(session) -> audit.Verification:
    # Verifying reveals no contents, so data_admin may run it as well as the auditor.
    if not (session.can(roles.VIEW_AUDIT) or session.can(roles.MANAGE_USERS)):
        session.require(roles.VIEW_AUDIT)
    result = audit.verify(session.conn)
    from app.store.database import transaction

    with transaction(session.conn):
        session.audit("audit_verify", detail={"ok": result.ok, "entries": result.entries})
    return result
