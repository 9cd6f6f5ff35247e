-- Governance: HMAC anchors for the audit chain, deletion requests, retention per source,
-- and the idle-lock default.

-- Every ANCHOR_EVERY entries the chain's hash is sealed with an HMAC whose key lives only
-- inside the encrypted store (meta secret:audit_anchor_key). Rewriting the whole chain
-- with fresh SHA-256 hashes no longer fits these seals.
CREATE TABLE audit_anchors (
    seq  INTEGER PRIMARY KEY,        -- the audit_log entry sealed
    hash TEXT NOT NULL,              -- that entry's chain hash
    mac  TEXT NOT NULL               -- HMAC-SHA256(anchor key, "seq:hash")
);
CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors
BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;
CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;

-- Requests to delete a source's data or a person's data. The target of a person request
-- is stored only as a keyed hash once executed, so the request list itself keeps no id.
CREATE TABLE deletion_requests (
    request_id   INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('source', 'person')),
    target       TEXT NOT NULL,          -- source key, or person id until executed, then its HMAC
    reason       TEXT NOT NULL DEFAULT '',
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    executed_by  TEXT,
    executed_at  TEXT,
    rows_removed INTEGER
);

-- Retention per data source (report table 2-14): 'keep' (保持) or 'confirm'
-- (削除に関する確認による: ask the department every review_months).
CREATE TABLE retention_policy (
    source        TEXT PRIMARY KEY,
    policy        TEXT NOT NULL CHECK (policy IN ('keep', 'confirm')),
    review_months INTEGER NOT NULL DEFAULT 12,
    last_confirmed TEXT,                 -- ISO date the department last confirmed keeping it
    note          TEXT NOT NULL DEFAULT ''
);
-- Report table 2-14 (本実証におけるシステム等の保存期間): 健康促進施策用データとして保持 = keep;
-- 削除に関する確認による = confirm. Sources the table does not list are 'confirm' (the cautious
-- reading). department = 保有・管理主体.
INSERT INTO retention_policy(source, policy, review_months, note) VALUES
 ('jumin', 'keep', 12, '住民基本台帳（窓口サービス課）: 保持'),
 ('kenshin', 'keep', 12, '小児健診データ（地域健康課）: 保持'),
 ('yobo', 'keep', 12, '予防接種データ（保健所企画課）: 保持'),
 ('receipt', 'keep', 12, '国民健康保険レセプト（健康保険課）: 保持'),
 ('shussei', 'confirm', 12, '出生連絡票（地域健康課）: 削除に関する確認による'),
 ('yoho', 'confirm', 12, '幼保所属データ（子育て支援課）: 削除に関する確認による'),
 ('shika', 'confirm', 12, '乳児歯科検診データ（健康増進課）: 削除に関する確認による'),
 ('ninpu', 'confirm', 12, '妊婦健診データ（健康管理支援課）: 削除に関する確認による'),
 ('shogai', 'confirm', 12, '障害者手帳情報（障害福祉課）: 削除に関する確認による'),
 ('jido_fuyo', 'confirm', 12, '児童扶養手当資格者情報（子ども給付課）: 削除に関する確認による'),
 ('seiho', 'confirm', 12, '被保護者情報（生活福祉課）: 削除に関する確認による'),
 ('epds', 'confirm', 12, '産後うつ情報 EPDS（地域健康課）: 削除に関する確認による'),
 ('dv', 'confirm', 12, 'DV情報（子ども家庭支援課）: 削除に関する確認による'),
 ('hogosha_kenshin', 'confirm', 12, '保護者健診: 図表2-14に記載なし（確認による）'),
 ('soudan', 'confirm', 12, '相談記録: 図表2-14に記載なし（確認による）'),
 ('assessment', 'confirm', 12, 'アセスメント: 図表2-14に記載なし（確認による）'),
 ('jisou', 'confirm', 12, '一時保護等（児童相談所）: 図表2-14に記載なし（確認による）');

INSERT OR IGNORE INTO settings(key, version, value, updated_by, updated_at)
VALUES ('session.idle_lock_minutes', 1, '10', NULL, strftime('%Y-%m-%dT%H:%M:%S', 'now'));
