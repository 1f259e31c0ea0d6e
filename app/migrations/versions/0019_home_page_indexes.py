"""signatures found by their record, material lots by their expiry (issue 17: the home page)

Revision ID: 0019
Revises: 0017
Create Date: 2026-11-30
"""
from alembic import op

revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_signature_row", "signature", ["table_name", "row_id", "meaning"])
    op.create_index("ix_material_lot_expiry", "material_lot", ["expiry_date"])


def downgrade() -> None:
    op.drop_index("ix_material_lot_expiry", table_name="material_lot")
    op.drop_index("ix_signature_row", table_name="signature")
