<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>TimelineView</name>
    <message>
        <source>SAMPLE (fictional data)</source>
        <translation>サンプル（架空データ）</translation>
    </message>
    <message>
        <source>Lanes</source>
        <translation>レーン</translation>
    </message>
    <message>
        <source>Save as mine…</source>
        <translation>自分用に保存…</translation>
    </message>
    <message>
        <source>Household</source>
        <translation>世帯表示</translation>
    </message>
    <message>
        <source>Japanese era years</source>
        <translation>和暦</translation>
    </message>
    <message>
        <source>Template</source>
        <translation>テンプレート</translation>
    </message>
    <message>
        <source>Graph</source>
        <translation>グラフ</translation>
    </message>
    <message>
        <source>Range</source>
        <translation>表示期間</translation>
    </message>
    <message>
        <source>1 month</source>
        <translation>1か月</translation>
    </message>
    <message>
        <source>6 months</source>
        <translation>6か月</translation>
    </message>
    <message>
        <source>1 year</source>
        <translation>1年</translation>
    </message>
    <message>
        <source>Whole period</source>
        <translation>全期間</translation>
    </message>
    <message>
        <source>Wheel: zoom · drag: pan · drag the band below: move the range</source>
        <translation>ホイール: 拡大・縮小 ・ ドラッグ: 移動 ・ 下の帯をドラッグ: 表示期間を移動</translation>
    </message>
    <message>
        <source>Could not open the record: %1</source>
        <translation>記録を開けませんでした: %1</translation>
    </message>
    <message>
        <source>Data as of: %1</source>
        <translation>データ時点: %1</translation>
    </message>
    <message>
        <source>Flags shown: %1, rule set %2 (reference date %3)</source>
        <translation>表示中の判定: %1・ルールセット %2（基準日 %3）</translation>
    </message>
    <message>
        <source> (mine)</source>
        <translation>（自分用）</translation>
    </message>
    <message>
        <source> (must see)</source>
        <translation>（必須）</translation>
    </message>
    <message>
        <source>Save template</source>
        <translation>テンプレートの保存</translation>
    </message>
    <message>
        <source>Name of your template:</source>
        <translation>テンプレート名:</translation>
    </message>
</context>
</TS>