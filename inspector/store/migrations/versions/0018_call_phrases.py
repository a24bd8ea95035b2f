"""call_phrases: each call's customer phrases, stored when it is scored (emerging phrases)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No backfill: a call scored before this revision has no row, and its phrases are cut on read as before.
    op.create_table(
        "call_phrases",
        sa.Column("call_id", sa.String(length=128), sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("phrases", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("call_phrases")
