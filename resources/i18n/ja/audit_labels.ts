<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>AuditView</name>
    <message>
        <source>No.</source>
        <translation>番号</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>日時</translation>
    </message>
    <message>
        <source>User</source>
        <translation>ユーザー</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>役割</translation>
    </message>
    <message>
        <source>Terminal</source>
        <translation>端末</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Object</source>
        <translation>対象</translation>
    </message>
    <message>
        <source>Object ids</source>
        <translation>対象ID</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <source>First seen</source>
        <translation>最初</translation>
    </message>
    <message>
        <source>Last seen</source>
        <translation>最後</translation>
    </message>
    <message>
        <source>Children</source>
        <translation>児童数</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>備考</translation>
    </message>
    </context>
</TS>