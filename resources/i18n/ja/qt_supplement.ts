<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<!-- Strings of Qt's own dialogs that Qt's qtbase_ja.qm (shipped with PySide6) leaves in English:
     Qt 6 added accelerators to the file dialog's labels ("&Look in:") and the Japanese catalogue
     still has the old sources. Found by walking a non-native QFileDialog, QMessageBox and
     QInputDialog for Latin text (tests/test_japanese_everywhere.py does it on every run). -->
<TS version="2.1" language="ja_JP">
<context>
    <name>QFileDialog</name>
    <message>
        <source>&amp;Look in:</source>
        <translation>ファイルの場所(&amp;L):</translation>
    </message>
    <message>
        <source>Files of &amp;type:</source>
        <translation>ファイルの種類(&amp;T):</translation>
    </message>
</context>
</TS>
