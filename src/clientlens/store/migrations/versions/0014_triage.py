"""triage of inbound messages (language, topic, sentiment, urgency).

``care_conversations`` gets the triage of its newest inbound message (language, topic with its
confidence, sentiment with its score, urgency, the time of the message triaged) and the priority's
reason as data (``priority_reason_data``, JSON: a reason key and parameters per part, rendered in the
agent's language by clientlens.care.priority). ``care_message_triage`` keeps the triage of each
inbound interaction (clientlens.store.triage_models).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONVERSATION_COLUMNS = (
    ('language', sa.String(length=8)),
    ('topic', sa.String(length=30)),
    ('topic_confidence', sa.Float()),
    ('sentiment', sa.String(length=10)),
    ('sentiment_score', sa.Float()),
    ('urgency', sa.String(length=10)),
    ('triaged_message_at', sa.DateTime()),
    ('priority_reason_data', sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table('care_conversations', schema=None) as batch_op:
        for name, type_ in _CONVERSATION_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        'care_message_triage',
        sa.Column('interaction_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('topic', sa.String(length=30), nullable=False),
        sa.Column('topic_confidence', sa.Float(), nullable=False),
        sa.Column('sentiment', sa.String(length=10), nullable=False),
        sa.Column('sentiment_score', sa.Float(), nullable=False),
        sa.Column('urgency', sa.String(length=10), nullable=False),
        sa.Column('triaged_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                                name=op.f('fk_care_message_triage_interaction_id_interactions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('interaction_id', name=op.f('pk_care_message_triage')))


def downgrade() -> None:
    op.drop_table('care_message_triage')
    with op.batch_alter_table('care_conversations', schema=None) as batch_op:
        for name, _ in reversed(_CONVERSATION_COLUMNS):
            batch_op.drop_column(name)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's batch mode rebuilds the table and cannot reflect the queue's expression index (0008)
        op.execute("CREATE INDEX IF NOT EXISTS ix_care_conversations_queue ON care_conversations "
                   "(shop_id, priority DESC, (first_response_due IS NULL), first_response_due, id, status)")
