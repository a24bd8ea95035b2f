"""insights: call topics, repeat contacts, cluster and repeat alerts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # inspector.people.repeats
    op.add_column("calls", sa.Column("repeat_of", sa.String(length=128), nullable=True))
    op.add_column("calls", sa.Column("chain_id", sa.String(length=128), nullable=True))
    op.add_column("calls", sa.Column("repeated", sa.Boolean(), nullable=False, server_default="0"))
    op.create_index("ix_calls_chain_id", "calls", ["chain_id"])
    op.create_index("ix_calls_day_chain", "calls", ["day", "chain_id", "project", "agent_id"])
    op.add_column("agent_days", sa.Column("repeated", sa.Integer(), nullable=False, server_default="0"))

    # Alerts raised by several calls (inspector.people.clusters, inspector.people.repeats).
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="call"))
        batch_op.add_column(sa.Column("project", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("topic", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.drop_constraint("uq_alerts_analysis", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_analysis_kind_subject", ["analysis_id", "kind", "subject"])
        batch_op.create_index("ix_alerts_kind", ["kind"])
        batch_op.create_index("ix_alerts_subject", ["kind", "subject", "status"])
    op.execute("UPDATE alerts SET subject = call_id WHERE subject IS NULL")  # a call's alert is about the call

    op.create_table(
        "alert_calls",
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("call_id", sa.String(length=128), sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_alert_calls_call_id", "alert_calls", ["call_id"])

    # inspector.store.topics: one row per topic of a call's current analysis.
    op.create_table(
        "call_topics",
        sa.Column("call_id", sa.String(length=128), sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("topic", sa.String(length=64), primary_key=True),
        sa.Column("project", sa.String(length=64), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=True),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=False),
    )
    op.create_index("ix_call_topics_day", "call_topics", ["day", "project", "topic", "contact"])
    op.create_index("ix_call_topics_project_topic_at", "call_topics", ["project", "topic", "at"])
    op.create_index("ix_call_topics_caller", "call_topics", ["caller", "topic", "at"])
    op.create_index("ix_call_topics_unit", "call_topics", ["project", "unit", "topic", "at"])
    # Calls scored before this revision: their topics from the current analyses (location as stored).
    op.execute(
        """
        INSERT INTO call_topics (call_id, topic, project, day, at, agent_id, caller, unit, contact)
        SELECT DISTINCT c.id, t.value, c.project, c.day, COALESCE(c.started_at, c.created_at), c.agent_id, c.caller,
               c.unit, COALESCE(c.caller, CASE WHEN c.unit IS NULL THEN 'call:' || c.id
                                               ELSE 'unit:' || COALESCE(c.project, '') || '/' || c.unit END)
        FROM calls c JOIN analyses a ON a.id = c.analysis_id, {each}
        """.format(
            each="json_each(a.topics) t"
            if op.get_bind().dialect.name == "sqlite"
            else "json_array_elements_text(a.topics::json) AS t(value)"
        )
    )


def downgrade() -> None:
    op.drop_table("call_topics")
    op.drop_table("alert_calls")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_subject")
        batch_op.drop_index("ix_alerts_kind")
        batch_op.drop_constraint("uq_alerts_analysis_kind_subject", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_analysis", ["analysis_id"])
        for column in ("updated_at", "subject", "topic", "project", "kind"):
            batch_op.drop_column(column)
    op.drop_column("agent_days", "repeated")
    op.drop_index("ix_calls_day_chain", table_name="calls")
    op.drop_index("ix_calls_chain_id", table_name="calls")
    for column in ("repeated", "chain_id", "repeat_of"):
        op.drop_column("calls", column)
