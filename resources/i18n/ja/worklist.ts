<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>ChildTableModel</name>
    <message>
        <source>Urgent %1</source>
        <translation>至急 %1</translation>
    </message>
    <message>
        <source>Urgent: the mother answered EPDS item 10 (thoughts of self-harm) with 1 or more (%1). Always at the top of the list.</source>
        <translation>至急：母がEPDS問10（自分を傷つける考え）に1点以上で回答（%1）。常にリストの先頭に表示します。</translation>
    </message>
</context>
<context>
    <name>ConditionsPanel</name>
    <message>
        <source>Target</source>
        <translation>対象</translation>
    </message>
    <message>
        <source>Scoring run (rule set, data date, when it was run)</source>
        <translation>採点の実行（ルールセット・基準日・実行日）</translation>
    </message>
    <message>
        <source>Rules counted</source>
        <translation>数えるルール</translation>
    </message>
    <message>
        <source>Top</source>
        <translation>上位</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全件</translation>
    </message>
    <message>
        <source>Show only the k children most in need (0 = all)</source>
        <translation>支援の必要が高い上位k人だけを表示（0 = 全件）</translation>
    </message>
    <message>
        <source>no cut</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>Score ≥</source>
        <translation>スコア ≥</translation>
    </message>
    <message>
        <source>Extracted</source>
        <translation>抽出のみ</translation>
    </message>
    <message>
        <source>All children</source>
        <translation>全件</translation>
    </message>
    <message>
        <source>Extraction is not defined for this run</source>
        <translation>この実行には抽出の定義がありません</translation>
    </message>
    <message>
        <source>Set in: %1</source>
        <translation>設定場所：%1</translation>
    </message>
    <message>
        <source>Thresholds are set in the rule set (Rules and scoring view)</source>
        <translation>基準値はルールセットで設定します（「ルールと採点」画面）</translation>
    </message>
</context>
<context>
    <name>DisclosureLegend</name>
    <message>
        <source>Legend:</source>
        <translation>凡例:</translation>
    </message>
</context>
<context>
    <name>EvidencePanel</name>
    <message>
        <source>Select a child to see the evidence.</source>
        <translation>子どもを選ぶと根拠が表示されます。</translation>
    </message>
    <message>
        <source>Item</source>
        <translation>項目</translation>
    </message>
    <message>
        <source>Disclosure</source>
        <translation>開示区分</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日付</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>値</translation>
    </message>
    <message>
        <source>Source (as of)</source>
        <translation>出典（時点）</translation>
    </message>
    <message>
        <source>Loading… (%1)</source>
        <translation>読み込み中…（%1）</translation>
    </message>
    <message>
        <source>Urgent: EPDS item 10 answered %1 (%2)</source>
        <translation>至急：EPDS問10に回答あり %1（%2）</translation>
    </message>
    <message>
        <source>Urgent: the mother answered EPDS item 10 (self-harm) with 1 or more on %1 (%2)</source>
        <translation>至急：母がEPDS問10（自傷）に1点以上で回答（%1・%2）</translation>
    </message>
    <message>
        <source>Flags (%1)</source>
        <translation>フラグ（%1件）</translation>
    </message>
    <message>
        <source>threshold: %1</source>
        <translation>基準: %1</translation>
    </message>
    <message>
        <source>No flags for this child.</source>
        <translation>この子どもにフラグはありません。</translation>
    </message>
    <message>
        <source>Household</source>
        <translation>世帯</translation>
    </message>
    <message>
        <source>No household members known.</source>
        <translation>世帯員の情報はありません。</translation>
    </message>
    <message>
        <source>Follow-up history</source>
        <translation>フォロー履歴</translation>
    </message>
    <message>
        <source>next: %1</source>
        <translation>次回: %1</translation>
    </message>
    <message>
        <source>Not yet followed up.</source>
        <translation>まだフォローしていません。</translation>
    </message>
</context>
<context>
    <name>FilterBar</name>
    <message>
        <source>Recent move-in</source>
        <translation>最近の転入</translation>
    </message>
    <message>
        <source>Old data</source>
        <translation>古いデータ</translation>
    </message>
    <message>
        <source>Search reasons, ID, town…</source>
        <translation>理由・ID・町名で検索…</translation>
    </message>
    <message>
        <source>Working filter</source>
        <translation>標準の絞り込み</translation>
    </message>
    <message>
        <source>Not yet followed, highest need first (the default)</source>
        <translation>未フォロー・必要度の高い順（既定）</translation>
    </message>
    <message>
        <source>All ages</source>
        <translation>全年齢</translation>
    </message>
    <message>
        <source>Not yet followed</source>
        <translation>未フォロー</translation>
    </message>
    <message>
        <source>All follow-up states</source>
        <translation>すべてのフォロー状況</translation>
    </message>
    <message>
        <source>District</source>
        <translation>地区</translation>
    </message>
    <message>
        <source>Town</source>
        <translation>町名</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>年齢</translation>
    </message>
    <message>
        <source>Flag</source>
        <translation>フラグ</translation>
    </message>
    <message>
        <source>Follow-up</source>
        <translation>フォロー</translation>
    </message>
    <message>
        <source>All districts</source>
        <translation>全地区</translation>
    </message>
    <message>
        <source>Any flag</source>
        <translation>すべてのフラグ</translation>
    </message>
    <message>
        <source>All towns</source>
        <translation>全町名</translation>
    </message>
</context>
<context>
    <name>FollowupDialog</name>
    <message>
        <source>Record follow-up</source>
        <translation>フォローを記録</translation>
    </message>
    <message>
        <source>Child: %1</source>
        <translation>子ども: %1</translation>
    </message>
    <message>
        <source>What was done and found (staff only)</source>
        <translation>実施した内容と分かったこと（職員のみ）</translation>
    </message>
    <message>
        <source>Next action on</source>
        <translation>次回予定日</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日付</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>メモ</translation>
    </message>
</context>
<context>
    <name>ListView</name>
    <message>
        <source>Working list</source>
        <translation>作業リスト</translation>
    </message>
    <message>
        <source>One row per household</source>
        <translation>世帯ごとに1行</translation>
    </message>
    <message>
        <source>Show identity…</source>
        <translation>氏名を表示…</translation>
    </message>
    <message>
        <source>Show real names (each time is logged)</source>
        <translation>実名を表示します（毎回、操作ログに記録されます）</translation>
    </message>
    <message>
        <source>Record follow-up…</source>
        <translation>フォローを記録…</translation>
    </message>
    <message>
        <source>Visit sheet (PDF)…</source>
        <translation>訪問準備シート（PDF）…</translation>
    </message>
    <message>
        <source>Open timeline</source>
        <translation>時系列を開く</translation>
    </message>
    <message>
        <source>Reading all %1 children…</source>
        <translation>全件（%1人）を読み込んでいます…</translation>
    </message>
    <message>
        <source>Could not load the list: %1</source>
        <translation>リストを読み込めませんでした: %1</translation>
    </message>
    <message>
        <source>Order</source>
        <translation>順位</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>スコア</translation>
    </message>
    <message>
        <source>Probability</source>
        <translation>確率</translation>
    </message>
    <message>
        <source>Household</source>
        <translation>世帯</translation>
    </message>
    <message>
        <source>Children</source>
        <translation>子ども数</translation>
    </message>
    <message>
        <source>Pseudonym</source>
        <translation>仮名</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>氏名</translation>
    </message>
    <message>
        <source>Research ID</source>
        <translation>研究用ID</translation>
    </message>
    <message>
        <source>District</source>
        <translation>地区</translation>
    </message>
    <message>
        <source>Town</source>
        <translation>町名</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>年齢</translation>
    </message>
    <message>
        <source>Flags</source>
        <translation>フラグ</translation>
    </message>
    <message>
        <source>Since extraction</source>
        <translation>抽出後の状況</translation>
    </message>
    <message>
        <source>Move-in</source>
        <translation>転入</translation>
    </message>
    <message>
        <source>Old data</source>
        <translation>古いデータ</translation>
    </message>
    <message>
        <source>Reasons</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Data as of — %1</source>
        <translation>データの時点 — %1</translation>
    </message>
    <message>
        <source>households</source>
        <translation>世帯</translation>
    </message>
    <message>
        <source>children</source>
        <translation>人</translation>
    </message>
    <message>
        <source>%1 of %2 %3 shown · %4 not yet followed · %5 brought into support since extraction</source>
        <translation>%2%3中 %1 を表示 · 未フォロー %4 · 抽出後に支援へつながった %5</translation>
    </message>
    <message>
        <source>Could not load the evidence: %1</source>
        <translation>根拠を読み込めませんでした: %1</translation>
    </message>
    <message>
        <source>Show identity</source>
        <translation>氏名の表示</translation>
    </message>
    <message>
        <source>Real names will be shown for the children in your list. This is recorded in the operation log with your name. Continue?</source>
        <translation>リストの子どもの実名を表示します。この操作はあなたの名前で操作ログに記録されます。続けますか？</translation>
    </message>
    <message>
        <source>Hide identity</source>
        <translation>氏名を隠す</translation>
    </message>
    <message>
        <source>Follow-up</source>
        <translation>フォロー</translation>
    </message>
    <message>
        <source>Visit sheet</source>
        <translation>訪問準備シート</translation>
    </message>
    <message>
        <source>Select one or more children first.</source>
        <translation>先に子どもを1人以上選んでください。</translation>
    </message>
    <message>
        <source>Visit sheet saved: %1</source>
        <translation>訪問準備シートを保存しました: %1</translation>
    </message>
</context>
<context>
    <name>ResultsTable</name>
    <message>
        <source>Urgent %1</source>
        <translation>至急 %1</translation>
    </message>
</context>
</TS>