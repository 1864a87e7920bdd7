"""import runs record their outcome: status (finished, failed) and the error of a failed run.

An import is one transaction: a run is stored finished with its rows, or failed (rolled back
whole). Runs left without finished_at by an earlier version (killed half-way) become failed.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 06:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='finished'))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
    op.execute("UPDATE import_runs SET status = 'failed', error = 'interrupted (no finish recorded)' "
               "WHERE finished_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_column('error')
        batch_op.drop_column('status')
