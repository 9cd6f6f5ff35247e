-- Signed account grants (docs/SECURITY.md, mechanism 6). One row per account: the canonical
-- JSON of what the account may do (name, role, areas, senior, active, the audit seq of the
-- change) and its Ed25519 signature by the data_admins' grant key. Whoever holds only the DB
-- key can edit `users` but cannot re-sign; every login checks the user's own grant.
CREATE TABLE account_grants (
    name      TEXT PRIMARY KEY,
    statement TEXT NOT NULL,
    signature TEXT NOT NULL
);
