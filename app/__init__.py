"""Mimamori (見守り): an offline desktop tool that links what municipal departments know
about preschool children so caseworkers can reach families before trouble.

Package layout (see README, "Architecture"):
- app.engine   pure pandas / scikit-learn: generation, ingestion, linkage, rules, scoring (no Qt)
- app.store    the encrypted SQLCipher store, key slots, migrations, role-checked queries (no Qt)
- app.models   Qt item models adapting engine/store frames for views
- app.views    Qt widgets
- app.commands the command line (python -m app ...)
"""

__version__ = "0.1.0"
