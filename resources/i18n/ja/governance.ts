<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="ja_JP">
<context>
    <name>AddUserDialog</name>
    <message>
        <source>Add user</source>
        <translation>ユーザーの追加</translation>
    </message>
    <message>
        <source>e.g. 中央 or 本庁, 追浜 (comma separated)</source>
        <translation>例: 中央、または 本庁, 追浜（カンマ区切り）</translation>
    </message>
    <message>
        <source>Senior (veteran) nurse</source>
        <translation>ベテラン保健師</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>ユーザー名</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>役割</translation>
    </message>
    <message>
        <source>Area</source>
        <translation>担当地区</translation>
    </message>
    <message>
        <source>Initial password</source>
        <translation>初期パスワード</translation>
    </message>
</context>
<context>
    <name>AreaNotice</name>
    <message>
        <source>Your account has no area (health-welfare centre or district) assigned, so no children are shown. Ask the data administrator to set your area.</source>
        <translation>このアカウントには担当地区（健康福祉センターまたは地区）が設定されていないため、子どもは表示されません。データ管理担当に担当地区の設定を依頼してください。</translation>
    </message>
</context>
<context>
    <name>AuditView</name>
    <message>
        <source>User</source>
        <translation>ユーザー</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>From</source>
        <translation>開始日</translation>
    </message>
    <message>
        <source>To</source>
        <translation>終了日</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>検索</translation>
    </message>
    <message>
        <source>Verify chain</source>
        <translation>改ざん検査</translation>
    </message>
    <message>
        <source>Export log…</source>
        <translation>ログを出力…</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>操作ログ</translation>
    </message>
    <message>
        <source>Unusual access</source>
        <translation>通常と異なるアクセス</translation>
    </message>
    <message>
        <source>(all users)</source>
        <translation>（全ユーザー）</translation>
    </message>
    <message>
        <source>(all actions)</source>
        <translation>（全操作）</translation>
    </message>
    <message>
        <source>%1 entries</source>
        <translation>%1 件</translation>
    </message>
    <message>
        <source>Unusual access (%1)</source>
        <translation>通常と異なるアクセス（%1件）</translation>
    </message>
    <message>
        <source>Audit log intact: %1 entries.</source>
        <translation>操作ログに改ざんはありません（%1 件）。</translation>
    </message>
    <message>
        <source>Tampering check failed: %1</source>
        <translation>改ざん検査で問題が見つかりました: %1</translation>
    </message>
    <message>
        <source>Audit log broken at entry %1: %2</source>
        <translation>操作ログの %1 番目の記録で不整合があります: %2</translation>
    </message>
    <message>
        <source>Export log</source>
        <translation>ログの出力</translation>
    </message>
    <message>
        <source>Write the export encrypted (recommended)?</source>
        <translation>暗号化して出力しますか（推奨）？</translation>
    </message>
    <message>
        <source>Passphrase for the encrypted file:</source>
        <translation>暗号化ファイルのパスフレーズ:</translation>
    </message>
    <message>
        <source>Exported %1 entries to %2</source>
        <translation>%1 件を %2 に出力しました</translation>
    </message>
    <message>
        <source>The operation failed.</source>
        <translation>操作に失敗しました。</translation>
    </message>
</context>
<context>
    <name>Clipboard</name>
    <message>
        <source>Your role may not copy case data to the clipboard.</source>
        <translation>この役割ではケース情報をクリップボードにコピーできません。</translation>
    </message>
</context>
<context>
    <name>LockScreen</name>
    <message>
        <source>Locked</source>
        <translation>ロック中</translation>
    </message>
    <message>
        <source>The screen was locked after a period of inactivity. Enter the password of %1 to continue.</source>
        <translation>一定時間操作がなかったため画面をロックしました。続けるには %1 のパスワードを入力してください。</translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation>ロック解除</translation>
    </message>
    <message>
        <source>Someone else? Switching user or logging out ends this session; unsaved input is lost.</source>
        <translation>別の職員の方は「利用者の切り替え」または「ログアウト」を押してください。この利用者のセッションは終了し、保存していない入力は失われます。</translation>
    </message>
    <message>
        <source>Switch user…</source>
        <translation>利用者の切り替え…</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>ログアウト</translation>
    </message>
</context>
<context>
    <name>SessionLock</name>
    <message>
        <source>The password could not be checked.</source>
        <translation>パスワードを確認できませんでした。</translation>
    </message>
</context>
<context>
    <name>UsersView</name>
    <message>
        <source>User</source>
        <translation>ユーザー</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>役割</translation>
    </message>
    <message>
        <source>Area</source>
        <translation>担当地区</translation>
    </message>
    <message>
        <source>Senior</source>
        <translation>ベテラン</translation>
    </message>
    <message>
        <source>Password changed</source>
        <translation>パスワード変更日</translation>
    </message>
    <message>
        <source>Add user…</source>
        <translation>ユーザーを追加…</translation>
    </message>
    <message>
        <source>Remove user</source>
        <translation>ユーザーを削除</translation>
    </message>
    <message>
        <source>Reset password…</source>
        <translation>パスワードを再設定…</translation>
    </message>
    <message>
        <source>Users</source>
        <translation>ユーザー</translation>
    </message>
    <message>
        <source>Register this terminal for exports</source>
        <translation>この端末を出力許可端末として登録</translation>
    </message>
    <message>
        <source>Terminal</source>
        <translation>端末</translation>
    </message>
    <message>
        <source>No.</source>
        <translation>番号</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>対象</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Requested</source>
        <translation>依頼日時</translation>
    </message>
    <message>
        <source>Executed</source>
        <translation>実行日時</translation>
    </message>
    <message>
        <source>Rows removed</source>
        <translation>削除行数</translation>
    </message>
    <message>
        <source>Request deletion of a source…</source>
        <translation>データ種別の削除依頼…</translation>
    </message>
    <message>
        <source>Request deletion of a person…</source>
        <translation>個人の削除依頼…</translation>
    </message>
    <message>
        <source>Carry out selected request</source>
        <translation>選択した依頼を実行</translation>
    </message>
    <message>
        <source>Deletion requests</source>
        <translation>削除依頼</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>データ種別</translation>
    </message>
    <message>
        <source>Policy</source>
        <translation>保存方針</translation>
    </message>
    <message>
        <source>Last confirmed</source>
        <translation>最終確認日</translation>
    </message>
    <message>
        <source>Data as of</source>
        <translation>抽出日</translation>
    </message>
    <message>
        <source>Confirmation due</source>
        <translation>確認時期</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>備考</translation>
    </message>
    <message>
        <source>Department confirmed keeping the selected source</source>
        <translation>選択したデータ種別の保持を管理課に確認済みにする</translation>
    </message>
    <message>
        <source>Retention</source>
        <translation>保存期間</translation>
    </message>
    <message>
        <source>This terminal (%1) is registered: exports and prints are allowed here.</source>
        <translation>この端末（%1）は登録済みです。出力・印刷ができます。</translation>
    </message>
    <message>
        <source>This terminal (%1) is not registered: exports and prints are refused here.</source>
        <translation>この端末（%1）は未登録です。出力・印刷はできません。</translation>
    </message>
    <message>
        <source>Retention (%1 due)</source>
        <translation>保存期間（要確認 %1件）</translation>
    </message>
    <message>
        <source>The operation failed.</source>
        <translation>操作に失敗しました。</translation>
    </message>
    <message>
        <source>User %1 added.</source>
        <translation>ユーザー %1 を追加しました。</translation>
    </message>
    <message>
        <source>Remove %1 and their key slot?</source>
        <translation>%1 とその鍵スロットを削除しますか？</translation>
    </message>
    <message>
        <source>User %1 removed.</source>
        <translation>ユーザー %1 を削除しました。</translation>
    </message>
    <message>
        <source>Reset password</source>
        <translation>パスワードの再設定</translation>
    </message>
    <message>
        <source>New password for %1:</source>
        <translation>%1 の新しいパスワード:</translation>
    </message>
    <message>
        <source>Password of %1 reset.</source>
        <translation>%1 のパスワードを再設定しました。</translation>
    </message>
    <message>
        <source>This terminal is now registered for exports.</source>
        <translation>この端末を出力許可端末として登録しました。</translation>
    </message>
    <message>
        <source>Source key (e.g. epds, receipt):</source>
        <translation>データ種別（例: epds, receipt）:</translation>
    </message>
    <message>
        <source>Research ID:</source>
        <translation>研究用ID:</translation>
    </message>
    <message>
        <source>Deletion request</source>
        <translation>削除依頼</translation>
    </message>
    <message>
        <source>Reason:</source>
        <translation>理由:</translation>
    </message>
    <message>
        <source>Deletion request recorded.</source>
        <translation>削除依頼を登録しました。</translation>
    </message>
    <message>
        <source>Carry out deletion</source>
        <translation>削除の実行</translation>
    </message>
    <message>
        <source>The data will be removed physically and cannot be restored. Continue?</source>
        <translation>データは物理的に削除され、元に戻せません。続けますか？</translation>
    </message>
    <message>
        <source>Deletion carried out.</source>
        <translation>削除を実行しました。</translation>
    </message>
    <message>
        <source>Retention of %1 confirmed.</source>
        <translation>%1 の保持を確認済みにしました。</translation>
    </message>
</context>
</TS>