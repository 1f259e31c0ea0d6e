"""handwritten signature images and specimens

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_png', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('strokes', sa.Text(), nullable=True))

    op.create_table('signature_specimen',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('image_png', sa.LargeBinary(), nullable=False),
    sa.Column('strokes', sa.Text(), nullable=False),
    sa.Column('saved_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_signature_specimen_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature_specimen')),
    sa.UniqueConstraint('user_id', name=op.f('uq_signature_specimen_user_id'))
    )


def downgrade() -> None:
    op.drop_table('signature_specimen')
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_column('strokes')
        batch_op.drop_column('image_png')
