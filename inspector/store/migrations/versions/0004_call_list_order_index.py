"""call list order index

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The call list's ORDER BY (api/queries.py), so a page reads 50 index entries instead of sorting every call.
    op.create_index(
        "ix_calls_list_order",
        "calls",
        [sa.text("(started_at IS NULL)"), sa.text("started_at DESC"), sa.text("created_at DESC"), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_calls_list_order", table_name="calls")
