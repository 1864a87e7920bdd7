"""customer_search_terms: the folded words of every customer's name, for the accent-free name search
through an index (clientlens.store.search). Filled for the customers already in the store.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02 07:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0010'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 50_000


def upgrade() -> None:
    op.create_table(
        'customer_search_terms',
        sa.Column('shop_id', sa.Integer(), sa.ForeignKey('shops.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('term', sa.String(length=40).with_variant(postgresql.VARCHAR(40, collation="C"), "postgresql"),
                  primary_key=True),
        sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customers.id', ondelete='CASCADE'), primary_key=True),
    )
    op.create_index('ix_customer_search_terms_customer_id', 'customer_search_terms', ['customer_id'])
    from clientlens.store.search import terms

    conn = op.get_bind()
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('shop_id', sa.Integer),
                         sa.column('name', sa.Text))
    table = sa.table('customer_search_terms', sa.column('shop_id', sa.Integer), sa.column('term', sa.String),
                     sa.column('customer_id', sa.Integer))
    last = 0
    while True:
        rows = conn.execute(sa.select(customers.c.id, customers.c.shop_id, customers.c.name)
                            .where(customers.c.id > last, customers.c.name.is_not(None))
                            .order_by(customers.c.id).limit(CHUNK)).all()
        if not rows:
            break
        values = [{"shop_id": shop, "term": t, "customer_id": cid} for cid, shop, name in rows for t in terms(name)]
        if values:
            conn.execute(sa.insert(table), values)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index('ix_customer_search_terms_customer_id', table_name='customer_search_terms')
    op.drop_table('customer_search_terms')
