"""inspection standards, sampling slip and item limits

The master data test items are prefilled from (检验项目标准), the sampling
slip's spec, place, material and control measures, and the limit each
inspection item was judged against.

Revision ID: 0006
Revises: 0008
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspection_standard',
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('material_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=100), nullable=False),
    sa.Column('method', sa.String(length=100), nullable=True),
    sa.Column('requirement', sa.String(length=100), nullable=True),
    sa.Column('limit_min', sa.Numeric(precision=16, scale=6), nullable=True),
    sa.Column('limit_max', sa.Numeric(precision=16, scale=6), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('expected', sa.String(length=40), nullable=True),
    sa.Column('basis', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_inspection_standard_material_id_material')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_inspection_standard_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_standard'))
    )
    with op.batch_alter_table('inspection_standard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_standard_material_id'), ['material_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_standard_product_id'), ['product_id'], unique=False)

    # SQLite gets the new reference in place: batch mode would copy the table
    # and drop the old one, which the inspection items pointing at it forbid.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE inspection ADD COLUMN material_id INTEGER '
                   'CONSTRAINT fk_inspection_material_id_material REFERENCES material (id)')
    else:
        op.add_column('inspection', sa.Column('material_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_inspection_material_id_material'), 'inspection', 'material',
                              ['material_id'], ['id'])
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spec', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('sampling_place', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('control_measures', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_inspection_material_id'), ['material_id'], unique=False)

    with op.batch_alter_table('inspection_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('limit_min', sa.Numeric(precision=16, scale=6), nullable=True))
        batch_op.add_column(sa.Column('limit_max', sa.Numeric(precision=16, scale=6), nullable=True))
        batch_op.add_column(sa.Column('unit', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('expected', sa.String(length=40), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('inspection_item', schema=None) as batch_op:
        batch_op.drop_column('expected')
        batch_op.drop_column('unit')
        batch_op.drop_column('limit_max')
        batch_op.drop_column('limit_min')

    with op.batch_alter_table('inspection', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':  # SQLite's copy of the table leaves it out with its column
            batch_op.drop_constraint(batch_op.f('fk_inspection_material_id_material'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_inspection_material_id'))
        batch_op.drop_column('control_measures')
        batch_op.drop_column('sampling_place')
        batch_op.drop_column('spec')
        batch_op.drop_column('material_id')

    with op.batch_alter_table('inspection_standard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_standard_product_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_standard_material_id'))

    op.drop_table('inspection_standard')
