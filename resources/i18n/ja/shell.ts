<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>Disclosure</name>
    <message>
        <source>May discuss with the family</source>
        <translation>家族と話してよい</translation>
    </message>
    <message>
        <source>Staff only</source>
        <translation>職員限り</translation>
    </message>
    <message>
        <source>Never reveal</source>
        <translation>開示厳禁</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>Mimamori — log in</source>
        <translation>見守り — ログイン</translation>
    </message>
    <message>
        <source>Mimamori (見守り)</source>
        <translation>見守り (Mimamori)</translation>
    </message>
    <message>
        <source>Store: %1</source>
        <translation>データベース: %1</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>ユーザー名</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>パスワード</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>ログイン</translation>
    </message>
    <message>
        <source>Enter your user name and password.</source>
        <translation>ユーザー名とパスワードを入力してください。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>No case data has been imported into this store yet. Views show real data only; they stay empty until a delivery is imported.</source>
        <translation>このデータベースにはまだケースデータが取り込まれていません。画面には実データだけを表示するため、データを取り込むまでは空のままです。</translation>
    </message>
    <message>
        <source>This terminal: %1 (registered for export and print)</source>
        <translation>この端末：%1 — 書き出し・印刷のできる登録済みの端末</translation>
    </message>
    <message>
        <source>This terminal is registered for export and print</source>
        <translation>この端末は書き出し・印刷のできる端末として登録されています</translation>
    </message>
    <message>
        <source>This terminal is not registered: export and print are not available here</source>
        <translation>この端末は未登録です：ここでは書き出し・印刷はできません（登録はデータ管理担当が行います）</translation>
    </message>
    <message>
        <source>Terminal ID %1 · database version %2</source>
        <translation>端末ID %1 · データベースの版 %2</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>アカウント</translation>
    </message>
    <message>
        <source>Switch user…</source>
        <translation>利用者の切り替え…</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>ログアウト</translation>
    </message>
    <message>
        <source>Mimamori 見守り</source>
        <translation>見守り Mimamori</translation>
    </message>
    <message>
        <source>デモ — synthetic data, not real people</source>
        <translation>デモ — 架空のデータです（実在の人物ではありません）</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>[demo data]</source>
        <translation>［デモ］</translation>
    </message>
</context>
<context>
    <name>NotAvailablePage</name>
    <message>
        <source>%1: not available yet</source>
        <translation>%1：まだ利用できません</translation>
    </message>
    <message>
        <source>This view has not been built yet. Nothing is shown here, so that no one mistakes sample data for real data.</source>
        <translation>この画面はまだ作られていません。見本のデータを実データと取り違えないよう、ここには何も表示しません。</translation>
    </message>
</context>
<context>
    <name>Shell</name>
    <message>
        <source>Log in as the next user.</source>
        <translation>次の利用者としてログインしてください。</translation>
    </message>
    <message>
        <source>You have been logged out.</source>
        <translation>ログアウトしました。</translation>
    </message>
</context>
<context>
    <name>Tasks</name>
    <message>
        <source>An unexpected error occurred. It was written to the application log (without case data). Please tell the data administrator.</source>
        <translation>予期しないエラーが発生しました。内容はアプリケーションのログに記録しました（ケースの情報は含みません）。データ管理担当にお知らせください。</translation>
    </message>
    <message>
        <source>The operation failed</source>
        <translation>処理の失敗</translation>
    </message>
    <message>
        <source>The operation could not be completed.</source>
        <translation>処理を完了できませんでした。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
</context>
<context>
    <name>Views</name>
    <message>
        <source>Working list</source>
        <translation>対象者リスト</translation>
    </message>
    <message>
        <source>Timeline</source>
        <translation>時系列</translation>
    </message>
    <message>
        <source>District map</source>
        <translation>地区マップ</translation>
    </message>
    <message>
        <source>Staffing plan</source>
        <translation>人員配置計画</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>データ取込</translation>
    </message>
    <message>
        <source>Rules and scoring</source>
        <translation>抽出ルールとスコア</translation>
    </message>
    <message>
        <source>Audit log</source>
        <translation>操作ログ</translation>
    </message>
    <message>
        <source>Users and terminals</source>
        <translation>ユーザーと端末</translation>
    </message>
</context>
</TS>