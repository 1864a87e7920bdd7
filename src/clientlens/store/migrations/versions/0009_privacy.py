"""privacy: the store's secrets (a random tombstone salt per store), tombstones of erased customers,
and the registry of files written with customer data (quarantine files, wherever written).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00
"""
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    store_secrets = op.create_table(
        'store_secrets',
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_store_secrets')))
    op.bulk_insert(store_secrets, [{'name': 'erasure_salt', 'value': secrets.token_hex(32)}])
    op.create_table(
        'erasure_tombstones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_erasure_tombstones_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_tombstones')),
        sa.UniqueConstraint('shop_id', 'kind', 'digest', name='uq_erasure_tombstones_key'))
    with op.batch_alter_table('erasure_tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_tombstones_shop_id'), ['shop_id'], unique=False)
    op.create_table(
        'written_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_written_files')))


def downgrade() -> None:
    op.drop_table('written_files')
    with op.batch_alter_table('erasure_tombstones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_tombstones_shop_id'))
    op.drop_table('erasure_tombstones')
    op.drop_table('store_secrets')
