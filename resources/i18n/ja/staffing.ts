<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>StaffingView</name>
    <message>
        <source>Child abuse</source>
        <translation>児童虐待</translation>
    </message>
    <message>
        <source>Postpartum depression / parenting anxiety</source>
        <translation>産後うつ・育児不安</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>対象</translation>
    </message>
    <message>
        <source>Nurses in the proposal</source>
        <translation>提案の保健師総数</translation>
    </message>
    <message>
        <source>of whom senior</source>
        <translation>うちベテラン</translation>
    </message>
    <message>
        <source>Minimum per district</source>
        <translation>各地区の最低人数</translation>
    </message>
    <message>
        <source>Save staff and update the proposal</source>
        <translation>配置を保存して提案を更新</translation>
    </message>
    <message>
        <source>Export plan…</source>
        <translation>計画を書き出す…</translation>
    </message>
    <message>
        <source>Printable page (PDF)…</source>
        <translation>印刷用PDF…</translation>
    </message>
    <message>
        <source>District</source>
        <translation>地区</translation>
    </message>
    <message>
        <source>Children</source>
        <translation>子どもの数</translation>
    </message>
    <message>
        <source>Flagged</source>
        <translation>抽出</translation>
    </message>
    <message>
        <source>Flagged,
not followed</source>
        <translation>抽出・
未フォロー</translation>
    </message>
    <message>
        <source>Expected visits
per month</source>
        <translation>月あたり
想定訪問数</translation>
    </message>
    <message>
        <source>Nurses
now</source>
        <translation>保健師数
（現在）</translation>
    </message>
    <message>
        <source>of whom
senior</source>
        <translation>うち
ベテラン</translation>
    </message>
    <message>
        <source>Visits per nurse
now</source>
        <translation>1人あたり訪問
（現在）</translation>
    </message>
    <message>
        <source>Nurses
proposed</source>
        <translation>保健師数
（提案）</translation>
    </message>
    <message>
        <source>Senior
proposed</source>
        <translation>ベテラン
（提案）</translation>
    </message>
    <message>
        <source>Visits per nurse
proposed</source>
        <translation>1人あたり訪問
（提案）</translation>
    </message>
    <message>
        <source>Chart</source>
        <translation>グラフ</translation>
    </message>
    <message>
        <source>Flagged, not followed</source>
        <translation>抽出・未フォロー</translation>
    </message>
    <message>
        <source>Expected visits / month</source>
        <translation>月あたり想定訪問数</translation>
    </message>
    <message>
        <source>Nurses now and proposed</source>
        <translation>保健師数（現在と提案）</translation>
    </message>
    <message>
        <source>Per district</source>
        <translation>地区別</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>指標</translation>
    </message>
    <message>
        <source>Trends over runs</source>
        <translation>実行ごとの推移</translation>
    </message>
    <message>
        <source>The figures could not be loaded.</source>
        <translation>集計を読み込めませんでした。</translation>
    </message>
    <message>
        <source>Staff entry and the proposal are for the section chief.</source>
        <translation>配置の入力と提案は課長用です。</translation>
    </message>
    <message>
        <source>No staff entered yet: enter the nurses of each district, or a total for the proposal.</source>
        <translation>保健師の配置がまだ入力されていません。地区ごとの人数か、提案に使う総数を入力してください。</translation>
    </message>
    <message>
        <source>Load = expected visits per month ÷ nurses.</source>
        <translation>負担 = 月あたり想定訪問数 ÷ 保健師数。</translation>
    </message>
    <message>
        <source>now</source>
        <translation>現在</translation>
    </message>
    <message>
        <source>proposed</source>
        <translation>提案</translation>
    </message>
    <message>
        <source>Expected visits per nurse per month: now and proposed</source>
        <translation>保健師1人あたりの月間想定訪問数（現在と提案）</translation>
    </message>
    <message>
        <source>Write the file encrypted (recommended)?</source>
        <translation>ファイルを暗号化して書き出しますか（推奨）？</translation>
    </message>
    <message>
        <source>Passphrase for the encrypted file:</source>
        <translation>暗号化ファイルのパスフレーズ:</translation>
    </message>
    <message>
        <source>Export plan</source>
        <translation>計画の書き出し</translation>
    </message>
    <message>
        <source>Excel (*.xlsx);;CSV (*.csv)</source>
        <translation>Excel (*.xlsx);;CSV (*.csv)</translation>
    </message>
    <message>
        <source>Plan written to %1 (%2 districts).</source>
        <translation>計画を %1 に書き出しました（%2 地区）。</translation>
    </message>
    <message>
        <source>The operation failed.</source>
        <translation>操作に失敗しました。</translation>
    </message>
    <message>
        <source>Printable page</source>
        <translation>印刷用ページ</translation>
    </message>
    <message>
        <source>Printable page written to %1.</source>
        <translation>印刷用ページを %1 に書き出しました。</translation>
    </message>
</context>
</TS>