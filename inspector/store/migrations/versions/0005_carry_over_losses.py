"""carry-over losses

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Review work that could not follow a call to a new rule set's analysis (inspector.people.carryover).
    op.create_table(
        "carry_over_losses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("from_analysis_id", sa.Integer(), nullable=False),
        sa.Column("to_analysis_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.String(length=128), nullable=True),
        sa.Column("hit_index", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["from_analysis_id"], ["analyses.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_analysis_id"], ["analyses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("carry_over_losses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carry_over_losses_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_carry_over_losses_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_carry_over_losses_to_analysis_id"), ["to_analysis_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("carry_over_losses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carry_over_losses_to_analysis_id"))
        batch_op.drop_index(batch_op.f("ix_carry_over_losses_agent_id"))
        batch_op.drop_index(batch_op.f("ix_carry_over_losses_call_id"))
    op.drop_table("carry_over_losses")
