"""snapshot_scores.model_status: whether the transaction model behind a score is a plain fit.

ok (maximum likelihood), regularised (fitted with a weak prior: a small base or a degenerate
optimum), fallback (a simpler model than the chosen one), empty (no model; the scores are null).
The reasons are in the snapshot's run.json ("models"). See clientlens.models.health.

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-02 06:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('snapshot_scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_status', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('snapshot_scores', schema=None) as batch_op:
        batch_op.drop_column('model_status')
