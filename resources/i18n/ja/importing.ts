<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>ImportView</name>
    <message>
        <source>Choose delivery folder…</source>
        <translation>納品フォルダを選ぶ…</translation>
    </message>
    <message>
        <source>No folder chosen</source>
        <translation>フォルダが選ばれていません</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>取り込む</translation>
    </message>
    <message>
        <source>File</source>
        <translation>ファイル</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>データ種別</translation>
    </message>
    <message>
        <source>Extracted on</source>
        <translation>抽出日</translation>
    </message>
    <message>
        <source>Read</source>
        <translation>読込</translation>
    </message>
    <message>
        <source>Imported</source>
        <translation>取込</translation>
    </message>
    <message>
        <source>Quarantined</source>
        <translation>隔離</translation>
    </message>
    <message>
        <source>Files</source>
        <translation>ファイル別件数</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>行</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Row as delivered</source>
        <translation>納品されたままの行</translation>
    </message>
    <message>
        <source>Export quarantine…</source>
        <translation>隔離行を書き出す…</translation>
    </message>
    <message>
        <source>Quarantine</source>
        <translation>隔離行</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>スコア</translation>
    </message>
    <message>
        <source>Name in the row</source>
        <translation>行の氏名</translation>
    </message>
    <message>
        <source>Kana in the row</source>
        <translation>行のカナ</translation>
    </message>
    <message>
        <source>Birth date in the row</source>
        <translation>行の生年月日</translation>
    </message>
    <message>
        <source>Candidate name</source>
        <translation>候補者の氏名</translation>
    </message>
    <message>
        <source>Candidate kana</source>
        <translation>候補者のカナ</translation>
    </message>
    <message>
        <source>Candidate birth date</source>
        <translation>候補者の生年月日</translation>
    </message>
    <message>
        <source>Evidence</source>
        <translation>一致の根拠</translation>
    </message>
    <message>
        <source>Same person (link)</source>
        <translation>同一人物（結び付ける）</translation>
    </message>
    <message>
        <source>Different person</source>
        <translation>別人</translation>
    </message>
    <message>
        <source>Review list</source>
        <translation>確認リスト</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <source>Research ID A</source>
        <translation>研究用ID A</translation>
    </message>
    <message>
        <source>Research ID B</source>
        <translation>研究用ID B</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>内容</translation>
    </message>
    <message>
        <source>Duplicate list</source>
        <translation>重複リスト</translation>
    </message>
    <message>
        <source>Choose delivery folder</source>
        <translation>納品フォルダを選ぶ</translation>
    </message>
    <message>
        <source>Importing…</source>
        <translation>取り込み中…</translation>
    </message>
    <message>
        <source>Importing delivery</source>
        <translation>納品データを取り込んでいます</translation>
    </message>
    <message>
        <source>This delivery was already imported; nothing changed.</source>
        <translation>この納品データは取り込み済みです。変更はありません。</translation>
    </message>
    <message>
        <source>Imported: %1 persons, %2 events; %3 rows quarantined, %4 waiting in review.</source>
        <translation>取り込み完了: 人 %1、出来事 %2。隔離行 %3、確認待ち %4。</translation>
    </message>
    <message>
        <source>Counts do not reconcile (read ≠ imported + quarantined).</source>
        <translation>件数が合いません（読込 ≠ 取込 + 隔離）。</translation>
    </message>
    <message>
        <source>Import cancelled; the store is unchanged.</source>
        <translation>取り込みを中止しました。データベースは変更していません。</translation>
    </message>
    <message>
        <source>Import stopped; the store is unchanged.</source>
        <translation>取り込みを止めました。データベースは変更していません。</translation>
    </message>
    <message>
        <source>The import failed.</source>
        <translation>取り込みに失敗しました。</translation>
    </message>
    <message>
        <source>Select a row of the review list first.</source>
        <translation>先に確認リストの行を選んでください。</translation>
    </message>
    <message>
        <source>Linked to the candidate.</source>
        <translation>候補者に結び付けました。</translation>
    </message>
    <message>
        <source>Kept as a different person.</source>
        <translation>別人として登録しました。</translation>
    </message>
    <message>
        <source>Export quarantine</source>
        <translation>隔離行の書き出し</translation>
    </message>
    <message>
        <source>Passphrase for the encrypted file:</source>
        <translation>暗号化ファイルのパスフレーズ:</translation>
    </message>
    <message>
        <source>Exported %1 rows to %2</source>
        <translation>%1 行を %2 に書き出しました</translation>
    </message>
    <message>
        <source>The operation failed.</source>
        <translation>操作に失敗しました。</translation>
    </message>
</context>
</TS>