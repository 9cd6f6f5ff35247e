<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>ExportDialogs</name>
    <message>
        <source>The file contains case data. Write it encrypted (recommended)?</source>
        <translation>ファイルには個人の情報が含まれます。暗号化して書き出しますか（推奨）？</translation>
    </message>
    <message>
        <source>Encrypted (.mmx)</source>
        <translation>暗号化する（.mmx）</translation>
    </message>
    <message>
        <source>Unencrypted…</source>
        <translation>暗号化しない…</translation>
    </message>
    <message>
        <source>Passphrase for the encrypted file:</source>
        <translation>暗号化ファイルのパスフレーズ：</translation>
    </message>
    <message>
        <source>Encrypted file (*.mmx)</source>
        <translation>暗号化ファイル (*.mmx)</translation>
    </message>
    <message>
        <source>PDF (*.pdf)</source>
        <translation>PDF (*.pdf)</translation>
    </message>
</context>
</TS>