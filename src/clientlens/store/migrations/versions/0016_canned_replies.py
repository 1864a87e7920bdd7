"""canned replies and service signals.

``canned_replies``: the shops' reply texts per language and triage topic (clientlens.store.canned_models);
service signals (CSAT, NPS, complaints, repeated contacts) need no table of their own: they are read
from feedback and conversations.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'canned_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('topic', sa.String(length=30), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_canned_replies_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies')),
        sa.UniqueConstraint('shop_id', 'language', 'topic', 'name', name='uq_canned_replies_shop_lang_topic_name'))
    with op.batch_alter_table('canned_replies', schema=None) as batch_op:
        batch_op.create_index('ix_canned_replies_shop_lang_topic', ['shop_id', 'language', 'topic'], unique=False)
        batch_op.create_index(batch_op.f('ix_canned_replies_shop_id'), ['shop_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('canned_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_canned_replies_shop_id'))
        batch_op.drop_index('ix_canned_replies_shop_lang_topic')
    op.drop_table('canned_replies')
