"""indexes for sorting the customer list on name and on creation date at 1M customers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:20:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_shop_name', ['shop_id', 'name'], unique=False)
        batch_op.create_index('ix_customers_shop_created_at', ['shop_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_shop_created_at')
        batch_op.drop_index('ix_customers_shop_name')
