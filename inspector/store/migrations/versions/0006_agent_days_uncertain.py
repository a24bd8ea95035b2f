"""agent days: calls with uncertain findings

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Calls of the day whose current analysis holds a finding heard with low confidence that no reviewer
    # has confirmed or rejected yet (inspector.qa.rules.engine Finding.uncertain); 0 for days rolled up
    # before findings had a confidence.
    op.add_column("agent_days", sa.Column("uncertain", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("agent_days", "uncertain")
