"""Tenants' policy versions and settings (SLA field bindings, on-call webhook).

Revision ID: 0003_policies
Revises: 0002_tickets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_policies"
down_revision = "0002_tickets"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _tenant_fk(**kwargs: bool) -> sa.Column[str]:
    return sa.Column(
        "client_key",
        sa.String(255),
        sa.ForeignKey("tenants.client_key", ondelete="CASCADE"),
        nullable=False,
        **kwargs,
    )


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        _tenant_fk(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.UniqueConstraint("client_key", "number", name="uq_policy_versions_number"),
    )
    op.create_table(
        "tenant_settings",
        _tenant_fk(primary_key=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("tenant_settings")
    op.drop_table("policy_versions")
