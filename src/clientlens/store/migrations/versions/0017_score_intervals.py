"""prediction intervals on scores: snapshot_scores.purchases_365d_low / _high, clv_low / clv_high.

The [models] interval_level (80%) interval of each customer's purchases over the long horizon and
of her CLV, with parameter uncertainty (clientlens.models.intervals).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 10:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = ('purchases_365d_low', 'purchases_365d_high', 'clv_low', 'clv_high')


def upgrade() -> None:
    with op.batch_alter_table('snapshot_scores', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('snapshot_scores', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
