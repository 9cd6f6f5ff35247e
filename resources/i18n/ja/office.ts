<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP">
<context>
    <name>AuditView</name>
    <message>
        <source>Recorded as: %1</source>
        <translation>記録上の名前: %1</translation>
    </message>
</context>
<context>
    <name>MapView</name>
    <message>
        <source>No earlier scoring run: the change is shown from the next run on.</source>
        <translation>前回の採点がありません。前回からの増減は次の採点から表示されます。</translation>
    </message>
</context>
<context>
    <name>RulesView</name>
    <message>
        <source>%1, version %2</source>
        <translation>%1 第%2版</translation>
    </message>
</context>
<context>
    <name>StaffingView</name>
    <message>
        <source> (one scoring run so far: the trend starts with the next run)</source>
        <translation>（採点はまだ1回です。推移は次の採点から表示されます）</translation>
    </message>
    <message>
        <source>Recomputing the proposal…</source>
        <translation>配置案を計算し直しています…</translation>
    </message>
    <message>
        <source>Run %1</source>
        <translation>実行%1</translation>
    </message>
    <message>
        <source>Staff entries not saved yet: the proposal shown uses them; &quot;Save staff and update the proposal&quot; stores them.</source>
        <translation>人員の入力はまだ保存されていません。表示中の配置案はこの入力で計算しています。「人員を保存して配置案を更新」で保存されます。</translation>
    </message>
</context>
<context>
    <name>UsersView</name>
    <message>
        <source> and household</source>
        <translation>（世帯を含む）</translation>
    </message>
    <message>
        <source>A family's request to see their records (開示請求): every record Mimamori holds about the person, with its disclosure class. Records marked ✕, child-guidance and DV records are listed as candidates for non-disclosure: the disclosure officer decides, not this list. Every look is recorded in the audit log.</source>
        <translation>本人・家族からの開示請求：見守りが保有するその人の記録をすべて、開示区分とともに一覧にします。✕の記録・児童相談所の記録・DV情報は不開示候補として示します。開示・不開示を決めるのは開示担当者で、この一覧ではありません。表示するたびに操作ログに記録されます。</translation>
    </message>
    <message>
        <source>Include the household's records</source>
        <translation>世帯の記録も含める</translation>
    </message>
    <message>
        <source>Report for the disclosure officer (PDF)…</source>
        <translation>開示担当者用の一覧（PDF）…</translation>
    </message>
    <message>
        <source>Report written: %1 (%2 records, %3).</source>
        <translation>一覧を書き出しました：%1（%2件、%3）</translation>
    </message>
    <message>
        <source>Research ID %1%2: %3 records (%4), %5 of them candidates for non-disclosure.</source>
        <translation>研究用ID %1%2：記録 %3件（%4）、うち不開示候補 %5件</translation>
    </message>
    <message>
        <source>Research ID of the requester:</source>
        <translation>請求者の研究用ID：</translation>
    </message>
    <message>
        <source>Show the records</source>
        <translation>記録を表示</translation>
    </message>
    <message>
        <source>Subject access report</source>
        <translation>開示請求の一覧</translation>
    </message>
    <message>
        <source>Subject access requests</source>
        <translation>開示請求</translation>
    </message>
    <message>
        <source>encrypted</source>
        <translation>暗号化</translation>
    </message>
    <message>
        <source>not encrypted</source>
        <translation>暗号化なし</translation>
    </message>
    <message>
        <source> (this terminal)</source>
        <translation>（この端末）</translation>
    </message>
    <message>
        <source> No terminal is registered yet.</source>
        <translation>登録済みの端末はまだありません。</translation>
    </message>
    <message>
        <source>Ask the department every %1 months</source>
        <translation>%1か月ごとに担当課へ確認</translation>
    </message>
    <message>
        <source>Data source</source>
        <translation>データ種別</translation>
    </message>
    <message>
        <source>Data source:</source>
        <translation>データ種別:</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>要確認</translation>
    </message>
    <message>
        <source>Exports</source>
        <translation>出力</translation>
    </message>
    <message>
        <source>Keep (health-promotion data)</source>
        <translation>保持（健康促進施策用データ）</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Person</source>
        <translation>個人</translation>
    </message>
    <message>
        <source>Registered at</source>
        <translation>登録日時</translation>
    </message>
    <message>
        <source>Registered by</source>
        <translation>登録者</translation>
    </message>
    <message>
        <source>Source key: %1</source>
        <translation>データ種別の識別名: %1</translation>
    </message>
    <message>
        <source>allowed</source>
        <translation>可</translation>
    </message>
    <message>
        <source>refused</source>
        <translation>不可</translation>
    </message>
</context>
</TS>
