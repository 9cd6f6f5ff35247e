"""The encrypted store: SQLCipher database, key slots, migrations, accounts, audit log and
role-checked queries. Never imports Qt."""
