"""the inbox queue's index: conversations of a shop in the order the inbox lists them.

``care.inbox.list_conversations`` orders a shop's conversations by priority (highest first), then
those with a first-response due time before those without, then the due time and the id. With
only (shop, status) indexed, a page of the unresolved queue at 100k conversations read and
sorted every matching row (85 ms on SQLite); this index holds the order itself (the ``IS NULL``
flag as an expression, on SQLite and PostgreSQL alike) and the status last, so a page reads about
one page of index entries whatever the view (unresolved, resolved, all), the status tested in the
index.

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-02 07:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_care_conversations_queue', 'care_conversations',
                    ['shop_id', sa.text('priority DESC'), sa.text('(first_response_due IS NULL)'),
                     'first_response_due', 'id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_care_conversations_queue', table_name='care_conversations')
