"""The worker's outbox: intended Jira writes, committed with the ticket's state change.

Revision ID: 0004_outbox
Revises: 0003_policies
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_outbox"
down_revision = "0003_policies"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column(
            "client_key",
            sa.String(255),
            sa.ForeignKey("tenants.client_key", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("issue_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("why", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("client_key", "event_id", "seq", name="uq_outbox_event_seq"),
    )
    op.create_index("ix_outbox_ticket_state", "outbox", ["client_key", "issue_id", "state"])


def downgrade() -> None:
    op.drop_table("outbox")
