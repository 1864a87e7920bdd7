"""inbound messages (message ids, threading headers).

``inbound_messages``: the interactions received through ``POST .../interactions`` and
``POST .../inbound/email`` with their message id (unique per shop: posting a message again creates
nothing), the ids they answer (In-Reply-To, References), the sender and how the message was matched
and threaded (clientlens.store.inbound_models).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'inbound_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('interaction_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=500), nullable=False),
        sa.Column('in_reply_to', sa.String(length=500), nullable=True),
        sa.Column('references', sa.Text(), nullable=True),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('sender', sa.String(length=320), nullable=True),
        sa.Column('matched_by', sa.String(length=20), nullable=False),
        sa.Column('threaded_by', sa.String(length=20), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                                name=op.f('fk_inbound_messages_interaction_id_interactions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_inbound_messages_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
        sa.UniqueConstraint('interaction_id', name=op.f('uq_inbound_messages_interaction_id')),
        sa.UniqueConstraint('shop_id', 'message_id', name='uq_inbound_messages_shop_message'))
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_messages_shop_id'), ['shop_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_messages_shop_id'))
    op.drop_table('inbound_messages')
