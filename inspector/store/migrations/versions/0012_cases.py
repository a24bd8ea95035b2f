"""complaint cases (投诉工单) with SLA clocks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("call_id", sa.String(length=128), sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("chain_id", sa.String(length=128), nullable=True),
        sa.Column(
            "cluster_alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("respond_due", sa.DateTime(), nullable=False),
        sa.Column("responded_at", sa.DateTime(), nullable=True),
        sa.Column("close_due", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("escalation", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("revisit_outcome", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("alert_id", name="uq_cases_alert_id"),
    )
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_call_id", "cases", ["call_id"])
    op.create_index("ix_cases_agent_id", "cases", ["agent_id"])
    op.create_index("ix_cases_project", "cases", ["project"])
    op.create_index("ix_cases_opened_at", "cases", ["opened_at"])
    op.create_index("ix_cases_open_due", "cases", ["status", "respond_due", "close_due"])
    op.create_table(
        "case_calls",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "call_id", sa.String(length=128), sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_case_calls_call_id", "case_calls", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_case_calls_call_id", table_name="case_calls")
    op.drop_table("case_calls")
    for name in ("ix_cases_open_due", "ix_cases_opened_at", "ix_cases_project", "ix_cases_agent_id",
                 "ix_cases_call_id", "ix_cases_status"):  # fmt: skip
        op.drop_index(name, table_name="cases")
    op.drop_table("cases")
