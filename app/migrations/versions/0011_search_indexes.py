"""search and sort indexes of the big ledgers (issue 18)

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-30

SQLite: FTS5 trigram tables over the ledgers' text columns, kept by
triggers; PostgreSQL: pg_trgm GIN indexes on the same columns; both: B-tree
indexes on the columns a big ledger is sorted by. Their definitions live in
app/search_index.py (derived indexes: outside the ORM metadata).
"""
from alembic import op

from app import search_index

revision = '0011'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    search_index.install(op.get_bind())


def downgrade() -> None:
    search_index.drop(op.get_bind())
