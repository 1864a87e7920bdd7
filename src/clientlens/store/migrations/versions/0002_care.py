"""care layer tables: conversations, their messages, surveys, the send log, unsubscribe tokens.

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('care_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('thread_key', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('priority_reason', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('last_message_at', sa.DateTime(), nullable=False),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('first_response_due', sa.DateTime(), nullable=True),
    sa.Column('resolution_due', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_care_conversations_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_care_conversations_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_conversations')),
    sa.UniqueConstraint('shop_id', 'thread_key', name='uq_care_conversations_shop_thread')
    )
    op.create_index(op.f('ix_care_conversations_customer_id'), 'care_conversations', ['customer_id'], unique=False)
    op.create_index(op.f('ix_care_conversations_shop_id'), 'care_conversations', ['shop_id'], unique=False)
    op.create_index('ix_care_conversations_shop_status', 'care_conversations', ['shop_id', 'status'], unique=False)
    op.create_table('care_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('campaign', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=True),
    sa.Column('recipient', sa.Text(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('receipt', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_care_messages_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_care_messages_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_messages')),
    sa.UniqueConstraint('message_id', name=op.f('uq_care_messages_message_id'))
    )
    op.create_index('ix_care_messages_customer_time', 'care_messages', ['customer_id', 'sent_at'], unique=False)
    op.create_index('ix_care_messages_shop_campaign', 'care_messages', ['shop_id', 'campaign'], unique=False)
    op.create_index(op.f('ix_care_messages_shop_id'), 'care_messages', ['shop_id'], unique=False)
    op.create_table('care_unsubscribe_tokens',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_care_unsubscribe_tokens_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_care_unsubscribe_tokens_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_care_unsubscribe_tokens'))
    )
    op.create_index(op.f('ix_care_unsubscribe_tokens_customer_id'), 'care_unsubscribe_tokens', ['customer_id'], unique=False)
    op.create_index(op.f('ix_care_unsubscribe_tokens_shop_id'), 'care_unsubscribe_tokens', ['shop_id'], unique=False)
    op.create_table('care_conversation_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('interaction_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['care_conversations.id'], name=op.f('fk_care_conversation_messages_conversation_id_care_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_care_conversation_messages_interaction_id_interactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_conversation_messages')),
    sa.UniqueConstraint('interaction_id', name=op.f('uq_care_conversation_messages_interaction_id'))
    )
    op.create_index(op.f('ix_care_conversation_messages_conversation_id'), 'care_conversation_messages', ['conversation_id'], unique=False)
    op.create_table('care_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('queued_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('feedback_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['care_conversations.id'], name=op.f('fk_care_surveys_conversation_id_care_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_care_surveys_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], name=op.f('fk_care_surveys_feedback_id_feedback'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_care_surveys_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_surveys'))
    )
    op.create_index(op.f('ix_care_surveys_conversation_id'), 'care_surveys', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_care_surveys_customer_id'), 'care_surveys', ['customer_id'], unique=False)
    op.create_index(op.f('ix_care_surveys_shop_id'), 'care_surveys', ['shop_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_care_surveys_shop_id'), table_name='care_surveys')
    op.drop_index(op.f('ix_care_surveys_customer_id'), table_name='care_surveys')
    op.drop_index(op.f('ix_care_surveys_conversation_id'), table_name='care_surveys')
    op.drop_table('care_surveys')
    op.drop_index(op.f('ix_care_conversation_messages_conversation_id'), table_name='care_conversation_messages')
    op.drop_table('care_conversation_messages')
    op.drop_index(op.f('ix_care_unsubscribe_tokens_shop_id'), table_name='care_unsubscribe_tokens')
    op.drop_index(op.f('ix_care_unsubscribe_tokens_customer_id'), table_name='care_unsubscribe_tokens')
    op.drop_table('care_unsubscribe_tokens')
    op.drop_index(op.f('ix_care_messages_shop_id'), table_name='care_messages')
    op.drop_index('ix_care_messages_shop_campaign', table_name='care_messages')
    op.drop_index('ix_care_messages_customer_time', table_name='care_messages')
    op.drop_table('care_messages')
    op.drop_index('ix_care_conversations_shop_status', table_name='care_conversations')
    op.drop_index(op.f('ix_care_conversations_shop_id'), table_name='care_conversations')
    op.drop_index(op.f('ix_care_conversations_customer_id'), table_name='care_conversations')
    op.drop_table('care_conversations')
