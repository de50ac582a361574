"""Tickets' SLA records, applied-event marks and the per-ticket audit log.

Revision ID: 0002_tickets
Revises: 0001_tenants
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_tickets"
down_revision = "0001_tenants"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _tenant_fk() -> sa.Column[str]:
    return sa.Column(
        "client_key",
        sa.String(255),
        sa.ForeignKey("tenants.client_key", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "tickets",
        _tenant_fk(),
        sa.Column("issue_id", sa.String(64), nullable=False),
        sa.Column("issue_key", sa.String(255), nullable=False),
        sa.Column("policy_version_id", sa.Integer, nullable=True),
        sa.Column("tier", sa.String(255), nullable=True),
        sa.Column("severity", sa.String(255), nullable=True),
        sa.Column("tier_rule", sa.Text, nullable=True),
        sa.Column("severity_rule", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("first_reply_at", _TS, nullable=True),
        sa.Column("last_update_at", _TS, nullable=True),
        sa.Column("promised_update_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("pauses", sa.JSON, nullable=False),
        sa.Column("phase_changes", sa.JSON, nullable=False),
        sa.Column("replies", sa.JSON, nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("customer_account_ids", sa.JSON, nullable=False),
        sa.Column("last_written_hash", sa.String(128), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("client_key", "issue_id"),
    )
    op.create_index("ix_tickets_open", "tickets", ["client_key", "closed_at"])
    op.create_table(
        "applied_events",
        _tenant_fk(),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("applied_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("client_key", "event_id"),
    )
    op.create_index("ix_applied_events_applied_at", "applied_events", ["applied_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        _tenant_fk(),
        sa.Column("issue_id", sa.String(64), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_ticket", "audit_log", ["client_key", "issue_id", "at", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("applied_events")
    op.drop_table("tickets")
