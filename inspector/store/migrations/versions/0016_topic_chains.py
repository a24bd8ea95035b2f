"""call_topics.prev_day: the day of the same contact's previous call about the same topic in the same project

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The previous row of each (project, topic, contact) in (day, at, call_id) order (inspector.store.topics).
PREVIOUS = """
SELECT call_id, topic,
       LAG(day) OVER (PARTITION BY project, topic, contact ORDER BY day, at, call_id) AS prev
FROM call_topics WHERE day IS NOT NULL
"""


def upgrade() -> None:
    op.add_column("call_topics", sa.Column("prev_day", sa.Date(), nullable=True))
    op.execute(f"CREATE TEMPORARY TABLE call_topic_prev AS {PREVIOUS}")
    op.execute("CREATE UNIQUE INDEX ix_call_topic_prev ON call_topic_prev (call_id, topic)")
    op.execute(
        "UPDATE call_topics SET prev_day = p.prev FROM call_topic_prev p "
        "WHERE p.call_id = call_topics.call_id AND p.topic = call_topics.topic AND p.prev IS NOT NULL"
    )
    op.execute("DROP TABLE call_topic_prev")
    op.drop_index("ix_call_topics_day", table_name="call_topics")
    op.create_index("ix_call_topics_day", "call_topics", ["day", "project", "topic", "prev_day", "contact"])
    op.create_index("ix_call_topics_contact", "call_topics", ["contact", "topic", "project", "day", "at", "call_id"])


def downgrade() -> None:
    op.drop_index("ix_call_topics_contact", table_name="call_topics")
    op.drop_index("ix_call_topics_day", table_name="call_topics")
    op.create_index("ix_call_topics_day", "call_topics", ["day", "project", "topic", "contact"])
    with op.batch_alter_table("call_topics") as batch:
        batch.drop_column("prev_day")
