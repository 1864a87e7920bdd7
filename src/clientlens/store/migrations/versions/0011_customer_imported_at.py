"""customers.imported_at: when a profile was first imported, kept apart from its signup date.

created_at is the signup date a file gave (none: the profile exists from its first order, and with
no orders at every as-of date). Before this revision a customers file without signup dates stamped
the import time into created_at; those stamps (equal to the start of a customers import run of the
same shop) are moved to imported_at and created_at is cleared, so the analysis at a past as-of date
keeps those profiles. Every other profile's imported_at is its created_at (the best known).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 07:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE customers SET imported_at = created_at")
    op.execute("UPDATE customers SET created_at = NULL WHERE EXISTS (SELECT 1 FROM import_runs r "
               "WHERE r.shop_id = customers.shop_id AND r.entity = 'customers' "
               "AND r.started_at = customers.created_at)")


def downgrade() -> None:
    op.execute("UPDATE customers SET created_at = imported_at WHERE created_at IS NULL")
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('imported_at')
