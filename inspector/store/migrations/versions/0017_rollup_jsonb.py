"""agent_days.checks as jsonb on PostgreSQL (org-node scorecards sum its categories inside the database)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# dimensions and missed stay json: jsonb would reorder their keys (the pack's dimension order is shown).
COLUMNS = ("checks",)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps JSON text
    for column in COLUMNS:
        op.alter_column("agent_days", column, type_=postgresql.JSONB(), postgresql_using=f"{column}::jsonb")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.alter_column("agent_days", column, type_=sa.JSON(), postgresql_using=f"{column}::json")
