"""agent workspace (internal notes, assignment).

``care_conversation_notes`` (internal notes), ``care_replying_markers`` (who is replying), and indexes
for the inbox filters: per shop by assignee, channel, topic and language (clientlens.care.inbox).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_FILTER_INDEXES = (('ix_care_conversations_shop_assignee', ['shop_id', 'assignee', 'status']),
                   ('ix_care_conversations_shop_channel', ['shop_id', 'channel', 'status']),
                   ('ix_care_conversations_shop_topic', ['shop_id', 'topic', 'status']),
                   ('ix_care_conversations_shop_language', ['shop_id', 'language', 'status']))


def upgrade() -> None:
    op.create_table(
        'care_conversation_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['care_conversations.id'],
                                name=op.f('fk_care_conversation_notes_conversation_id_care_conversations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_conversation_notes')))
    op.create_index('ix_care_conversation_notes_conversation', 'care_conversation_notes',
                    ['conversation_id', 'created_at'])
    op.create_table(
        'care_replying_markers',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('agent', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['care_conversations.id'],
                                name=op.f('fk_care_replying_markers_conversation_id_care_conversations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('conversation_id', 'agent', name=op.f('pk_care_replying_markers')))
    for name, columns in _FILTER_INDEXES:
        op.create_index(name, 'care_conversations', columns)


def downgrade() -> None:
    for name, _ in reversed(_FILTER_INDEXES):
        op.drop_index(name, table_name='care_conversations')
    op.drop_table('care_replying_markers')
    op.drop_index('ix_care_conversation_notes_conversation', table_name='care_conversation_notes')
    op.drop_table('care_conversation_notes')
