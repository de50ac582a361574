"""Tenants (Connect and Forge installations) and Forge system tokens.

Revision ID: 0001_tenants
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_tenants"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("client_key", sa.String(255), primary_key=True),
        sa.Column("app_key", sa.String(255), nullable=True),
        sa.Column("base_url", sa.String(2048), nullable=False),
        sa.Column("display_url", sa.String(2048), nullable=True),
        sa.Column("product_type", sa.String(64), nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("oauth_client_id", sa.String(255), nullable=True),
        sa.Column("installation_id", sa.String(255), nullable=True),
        sa.Column("cloud_id", sa.String(64), nullable=True),
        sa.Column("entitlement_id", sa.String(255), nullable=True),
        sa.Column("entitlement_number", sa.String(255), nullable=True),
        sa.Column("platform", sa.String(16), nullable=False, server_default="connect"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_changed_at", _TS, nullable=False),
        sa.Column("installed_at", _TS, nullable=False),
        sa.Column("last_installed_at", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("uninstalled_at", _TS, nullable=True),
        sa.Column("shared_secret_encrypted", sa.Text, nullable=True),
    )
    op.create_index("ix_tenants_state", "tenants", ["state"])
    op.create_index("ix_tenants_installation_id", "tenants", ["installation_id"])
    op.create_table(
        "forge_system_tokens",
        sa.Column("installation_id", sa.String(255), primary_key=True),
        sa.Column("client_key", sa.String(255), nullable=False),
        sa.Column("token_encrypted", sa.Text, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("api_base_url", sa.String(2048), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_index("ix_forge_system_tokens_client_key", "forge_system_tokens", ["client_key"])


def downgrade() -> None:
    op.drop_table("forge_system_tokens")
    op.drop_table("tenants")
