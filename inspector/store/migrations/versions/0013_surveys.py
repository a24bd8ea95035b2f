"""satisfaction surveys (满意度) joined to calls; the pattern of rules that deducted on each analysis

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Analyses stored from now on carry their deduction pattern; older ones are read from their hits.
    op.add_column("analyses", sa.Column("deducted", sa.Text(), nullable=True))
    op.create_table(
        "surveys",
        sa.Column(
            "call_id", sa.String(length=128), sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("deducted", sa.Text(), nullable=False, server_default=""),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_surveys_agent_day", "surveys", ["agent_id", "day"])
    op.create_index("ix_surveys_day_pattern", "surveys", ["day", "deducted", "csat", "score"])


def downgrade() -> None:
    op.drop_index("ix_surveys_day_pattern", table_name="surveys")
    op.drop_index("ix_surveys_agent_day", table_name="surveys")
    op.drop_table("surveys")
    op.drop_column("analyses", "deducted")
