"""index for sorting the customer list on expected purchases (365 days) at 1M customers, like the
CLV and P(alive) indexes of 0003.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('snapshot_scores', schema=None) as batch_op:
        batch_op.create_index('ix_snapshot_scores_expected_purchases_365d',
                              ['snapshot_id', 'expected_purchases_365d'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('snapshot_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshot_scores_expected_purchases_365d')
