"""Tickets: the Jira time of the newest issue snapshot applied, and the next deadline (the timer sweep's index).

Revision ID: 0006_next_deadline
Revises: 0004_outbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_next_deadline"
down_revision = "0005_installation_ids"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("issue_seen_at", _TS, nullable=True))
        batch.add_column(sa.Column("issue_seen_changelog", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("next_deadline", _TS, nullable=True))
    op.create_index("ix_tickets_next_deadline", "tickets", ["next_deadline"])


def downgrade() -> None:
    op.drop_index("ix_tickets_next_deadline", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("next_deadline")
        batch.drop_column("issue_seen_changelog")
        batch.drop_column("issue_seen_at")
