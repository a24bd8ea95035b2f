"""where a call is about: project, building, unit (with source and confidence)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # inspector.intake.location: from the upload form / CDR / file name ("metadata") or heard in the transcript.
    op.add_column("calls", sa.Column("project", sa.String(length=64), nullable=True))
    op.add_column("calls", sa.Column("building", sa.String(length=32), nullable=True))
    op.add_column("calls", sa.Column("unit", sa.String(length=64), nullable=True))
    op.add_column("calls", sa.Column("location_source", sa.String(length=16), nullable=True))
    op.add_column("calls", sa.Column("location_confidence", sa.Float(), nullable=True))
    op.create_index("ix_calls_project_day", "calls", ["project", "day"])


def downgrade() -> None:
    op.drop_index("ix_calls_project_day", table_name="calls")
    op.drop_column("calls", "location_confidence")
    op.drop_column("calls", "location_source")
    op.drop_column("calls", "unit")
    op.drop_column("calls", "building")
    op.drop_column("calls", "project")
