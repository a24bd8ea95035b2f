"""reviewer calibration rounds

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Calibration rounds (inspector.people.calibration): the same calls judged blind by several reviewers.
    op.create_table(
        "calibration_rounds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calibration_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calibration_rounds_status"), ["status"], unique=False)
    op.create_table(
        "calibration_calls",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["calibration_rounds.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["analysis_id"], ["analyses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "call_id"),
    )
    op.create_table(
        "calibration_reviewers",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["calibration_rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("round_id", "username"),
    )
    op.create_table(
        "calibration_verdicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("hit_index", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["calibration_rounds.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "call_id", "hit_index", "reviewer", name="uq_calibration_verdicts_hit"),
    )
    with op.batch_alter_table("calibration_verdicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calibration_verdicts_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calibration_verdicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibration_verdicts_round_id"))
    op.drop_table("calibration_verdicts")
    op.drop_table("calibration_reviewers")
    op.drop_table("calibration_calls")
    with op.batch_alter_table("calibration_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibration_rounds_status"))
    op.drop_table("calibration_rounds")
