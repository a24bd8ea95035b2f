"""masked audio cache; retention purge marks on calls

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A recording with its personal-data spans replaced by a tone (inspector.privacy.audio), kept in the audio
    # store under its own sha256; ``fingerprint`` identifies the spans (and detector version) it masks.
    op.create_table(
        "masked_audio",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("masked_sha256", sa.String(length=64), nullable=False),
        sa.Column("masked_bytes", sa.BigInteger(), nullable=False),
        sa.Column("spans", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "fingerprint", name="uq_masked_audio_call_fingerprint"),
    )
    op.create_index("ix_masked_audio_created_at", "masked_audio", ["created_at"])
    op.create_index("ix_masked_audio_masked_sha256", "masked_audio", ["masked_sha256"])
    # Retention (inspector.privacy.retention): when the original recording / the transcript text was purged.
    # Scores and findings stay; a purged call says its audio is gone.
    op.add_column("calls", sa.Column("audio_purged_at", sa.DateTime(), nullable=True))
    op.add_column("calls", sa.Column("transcript_purged_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("calls", "transcript_purged_at")
    op.drop_column("calls", "audio_purged_at")
    op.drop_index("ix_masked_audio_masked_sha256", table_name="masked_audio")
    op.drop_index("ix_masked_audio_created_at", table_name="masked_audio")
    op.drop_table("masked_audio")
