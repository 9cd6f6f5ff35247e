<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>MapView</name>
    <message>
        <source>Child abuse</source>
        <translation>児童虐待</translation>
    </message>
    <message>
        <source>Postpartum depression / parenting anxiety</source>
        <translation>産後うつ・育児不安</translation>
    </message>
    <message>
        <source>Flagged, not yet followed</source>
        <translation>抽出・未フォロー</translation>
    </message>
    <message>
        <source>Flagged children</source>
        <translation>抽出された子ども</translation>
    </message>
    <message>
        <source>Not yet followed per 1,000 children</source>
        <translation>未フォロー（子ども千人あたり）</translation>
    </message>
    <message>
        <source>Flagged per 1,000 children</source>
        <translation>抽出（子ども千人あたり）</translation>
    </message>
    <message>
        <source>Change since the previous run</source>
        <translation>前回からの増減</translation>
    </message>
    <message>
        <source>Expected visits per month</source>
        <translation>月あたり想定訪問数</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>対象</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>指標</translation>
    </message>
    <message>
        <source>Small counts are suppressed: &lt;5 = fewer than five, X = hidden so it cannot be worked out from the totals.</source>
        <translation>小さな数は秘匿しています: 「&lt;5」= 5人未満、「X」= 合計から逆算できないよう非表示。</translation>
    </message>
    <message>
        <source>Boundaries are approximate (built from town centroids).</source>
        <translation>境界は概略です（町の重心から作成）。</translation>
    </message>
    <message>
        <source>The map page could not be loaded.</source>
        <translation>地図ページを読み込めませんでした。</translation>
    </message>
</context>
</TS>