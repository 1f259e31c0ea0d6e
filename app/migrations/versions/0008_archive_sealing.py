"""archive sealing: who filed and who checked a sealed archive

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-22

A table of its own: the archive rows keep their columns, so their audited
content (and ``audit.verify`` on an upgraded database) is unchanged. Old
``closed`` archives stay as they are and are read as not sealed.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archive_seal',
    sa.Column('archive_id', sa.Integer(), nullable=False),
    sa.Column('filer_id', sa.Integer(), nullable=False),
    sa.Column('filer_name', sa.String(length=40), nullable=False),
    sa.Column('checker_id', sa.Integer(), nullable=False),
    sa.Column('checker_name', sa.String(length=40), nullable=False),
    sa.Column('sealed_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['archive_id'], ['archive.id'], name=op.f('fk_archive_seal_archive_id_archive')),
    sa.ForeignKeyConstraint(['checker_id'], ['app_user.id'], name=op.f('fk_archive_seal_checker_id_app_user')),
    sa.ForeignKeyConstraint(['filer_id'], ['app_user.id'], name=op.f('fk_archive_seal_filer_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_seal')),
    sa.UniqueConstraint('archive_id', name=op.f('uq_archive_seal_archive_id'))
    )
    with op.batch_alter_table('archive_seal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_seal_checker_id'), ['checker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_seal_filer_id'), ['filer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('archive_seal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_seal_filer_id'))
        batch_op.drop_index(batch_op.f('ix_archive_seal_checker_id'))

    op.drop_table('archive_seal')
