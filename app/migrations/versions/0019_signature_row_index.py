"""signatures found by their record (issue 17: the home page's to-dos)

Revision ID: 0019
Revises: 0011
Create Date: 2026-11-30
"""
from alembic import op

revision = '0019'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_signature_row", "signature", ["table_name", "row_id", "meaning"])


def downgrade() -> None:
    op.drop_index("ix_signature_row", table_name="signature")
