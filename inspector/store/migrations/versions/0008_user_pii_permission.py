"""users: the permission to reveal personal data

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ``pii``: this user may reveal the personal data (phone, ID, bank card, plate, address) that every
    # surface masks by default (inspector.privacy); admins have it by role. Granted with ``inspector users pii``.
    op.add_column("users", sa.Column("pii", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("users", "pii")
