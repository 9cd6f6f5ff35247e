-- Retention of the 障害児通所支援 extract (source shogaiji_tsusho, added to the catalogue
-- resources/config/sources.toml). Report table 2-14 does not list it: 'confirm', the cautious
-- reading used for every unlisted source.
INSERT OR IGNORE INTO retention_policy(source, policy, review_months, note) VALUES
 ('shogaiji_tsusho', 'confirm', 12, '障害児通所支援（障害福祉課）: 図表2-14に記載なし（確認による）');
