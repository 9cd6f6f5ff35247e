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
