"""outbound message delivery state (queued, sent, failed, retried).

``outbound_deliveries``: one row per agent reply with its stable Message-ID, threading headers,
state, attempts, reason and next attempt (clientlens.store.delivery_models).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbound_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('interaction_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('message_id', sa.String(length=300), nullable=False),
        sa.Column('in_reply_to', sa.String(length=500), nullable=True),
        sa.Column('references', sa.Text(), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('sender', sa.String(length=20), nullable=True),
        sa.Column('receipt', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_outbound_deliveries_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['conversation_id'], ['care_conversations.id'],
                                name=op.f('fk_outbound_deliveries_conversation_id_care_conversations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                                name=op.f('fk_outbound_deliveries_interaction_id_interactions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_outbound_deliveries_customer_id_customers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_deliveries')),
        sa.UniqueConstraint('interaction_id', name=op.f('uq_outbound_deliveries_interaction_id')),
        sa.UniqueConstraint('message_id', name=op.f('uq_outbound_deliveries_message_id')))
    with op.batch_alter_table('outbound_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_deliveries_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_deliveries_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_deliveries_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_outbound_deliveries_due', ['state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbound_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_deliveries_due')
        batch_op.drop_index(batch_op.f('ix_outbound_deliveries_customer_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_deliveries_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_deliveries_shop_id'))
    op.drop_table('outbound_deliveries')
