<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP">
<context>
    <name>RulesView</name>
    <message>
        <source>Rules and scoring</source>
        <translation>抽出ルールとスコア</translation>
    </message>
    <message>
        <source>Rule sets are stored and versioned in the database; each scoring run records the rule set, the data&apos;s as-of dates, thresholds and weights, and is never overwritten. The analysis never decides: a person assesses every case.</source>
        <translation>ルールセットはデータベースに版ごとに保存されます。採点のたびに、使ったルールセット・データの時点・閾値・重みを記録し、上書きはしません。分析は判断をしません。すべてのケースは人が評価します。</translation>
    </message>
    <message>
        <source>Rule sets</source>
        <translation>ルールセット</translation>
    </message>
    <message>
        <source>Scoring runs and validation</source>
        <translation>採点の履歴と検証</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>対象</translation>
    </message>
    <message>
        <source>Rule set</source>
        <translation>ルールセット</translation>
    </message>
    <message>
        <source>Run %1</source>
        <translation>採点 %1</translation>
    </message>
    <message>
        <source>Validation figures are computed against the child-guidance list; they are shown to child-guidance managers only.</source>
        <translation>検証の数値は一時保護等のリストと照合して計算するため、児童相談所の管理職にだけ表示します。</translation>
    </message>
    <message>
        <source>Run by</source>
        <translation>実行</translation>
    </message>
    <message>
        <source>Ages counted at</source>
        <translation>年齢の基準日</translation>
    </message>
    <message>
        <source>Children with at least one flag</source>
        <translation>1項目以上該当した児童</translation>
    </message>
    <message>
        <source>Data as of (extraction date per source)</source>
        <translation>データの時点（データ種別ごとの抽出日）</translation>
    </message>
    <message>
        <source>No validation: %1</source>
        <translation>検証なし: %1</translation>
    </message>
    <message>
        <source>Validation on held-out children</source>
        <translation>学習に使っていない児童での検証</translation>
    </message>
    <message>
        <source>Held-out children: %1 (on the list: %2). Model trained on %3 others.</source>
        <translation>検証用の児童 %1 人（うち一時保護等リスト該当 %2 人）。モデルは別の %3 人で学習。</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>指標</translation>
    </message>
    <message>
        <source>Score (Σ weight × flag)</source>
        <translation>関連スコア（Σ 重み×該当）</translation>
    </message>
    <message>
        <source>Calibrated probability</source>
        <translation>較正済み確率</translation>
    </message>
    <message>
        <source>Top %1: precision / recall</source>
        <translation>上位 %1 人: 適合率 / 再現率</translation>
    </message>
    <message>
        <source>By district (fairness check)</source>
        <translation>地区別（公平性の確認）</translation>
    </message>
    <message>
        <source>By nationality (fairness check)</source>
        <translation>国籍別（公平性の確認）</translation>
    </message>
    <message>
        <source>On list</source>
        <translation>リスト該当</translation>
    </message>
    <message>
        <source>Flag rate</source>
        <translation>該当率</translation>
    </message>
    <message>
        <source>Share in top</source>
        <translation>上位に入る割合</translation>
    </message>
    <message>
        <source>Precision in top</source>
        <translation>上位での適合率</translation>
    </message>
    <message>
        <source>(unknown)</source>
        <translation>（不明）</translation>
    </message>
    <message>
        <source>Calibration (predicted vs observed, by tenths)</source>
        <translation>較正（予測と実際、十分位ごと）</translation>
    </message>
    <message>
        <source>%1, version %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>使用中</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Stored</source>
        <translation>保存日時</translation>
    </message>
    <message>
        <source>By</source>
        <translation>保存者</translation>
    </message>
    <message>
        <source>Rule id</source>
        <translation>ルールID</translation>
    </message>
    <message>
        <source>Item</source>
        <translation>項目</translation>
    </message>
    <message>
        <source>Ages</source>
        <translation>対象年齢</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>重み</translation>
    </message>
    <message>
        <source>Disclosure</source>
        <translation>開示区分</translation>
    </message>
    <message>
        <source>Flagged in the last run</source>
        <translation>直近の判定で抽出</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>説明</translation>
    </message>
    <message>
        <source>Rules</source>
        <translation>ルール</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>確認</translation>
    </message>
    <message>
        <source>Save as new version</source>
        <translation>新しい版として保存</translation>
    </message>
    <message>
        <source>Make the selected version active</source>
        <translation>選んだ版を使用中にする</translation>
    </message>
    <message>
        <source>Rule set text (TOML)</source>
        <translation>ルールセットの定義（TOML）</translation>
    </message>
    <message>
        <source>Score now with the active rule sets</source>
        <translation>使用中のルールセットで今すぐ採点</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>採点</translation>
    </message>
    <message>
        <source>As of</source>
        <translation>基準日</translation>
    </message>
    <message>
        <source>Children</source>
        <translation>児童数</translation>
    </message>
    <message>
        <source>Flagged</source>
        <translation>該当</translation>
    </message>
    <message>
        <source>Run at</source>
        <translation>実行日時</translation>
    </message>
    <message>
        <source>Children flagged</source>
        <translation>該当児童数</translation>
    </message>
    <message>
        <source>Threshold</source>
        <translation>閾値</translation>
    </message>
    <message>
        <source>● active</source>
        <translation>● 使用中</translation>
    </message>
    <message>
        <source>No scoring run yet.</source>
        <translation>まだ採点していません。</translation>
    </message>
    <message>
        <source>⚠ flags no child</source>
        <translation>⚠ 1人も抽出していません</translation>
    </message>
    <message>
        <source>⚠ flags more than half of the children (%1%)</source>
        <translation>⚠ 半数を超える児を抽出しています（%1%）</translation>
    </message>
    <message>
        <source>not run yet</source>
        <translation>未実行</translation>
    </message>
    <message>
        <source>Problem: %1</source>
        <translation>問題があります: %1</translation>
    </message>
    <message>
        <source>The rule set %1 is valid.</source>
        <translation>ルールセット %1 は正しく読めます。</translation>
    </message>
    <message>
        <source>Stored as %1 version %2.</source>
        <translation>%1 の第 %2 版として保存しました。</translation>
    </message>
    <message>
        <source>Scoring…</source>
        <translation>採点しています…</translation>
    </message>
</context>
</TS>
