"""One tenant per site, whichever door: installation ids unique, cloud ids indexed, the event source.

A Connect install now records the `installationId` (and `cloudId`) of its `installed` payload, and a
Forge Invocation Token is resolved to the tenant with that installation id (else that cloud id), so a
site that moves from Connect to Forge keeps one tenant. `event_source` says which door a site's ticket
events are taken from (`connect` until the first Forge product event, then `forge`).

Revision ID: 0005_installation_ids
Revises: 0004_outbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_installation_ids"
down_revision = "0004_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("event_source", sa.String(16), nullable=False, server_default="connect"))
    op.drop_index("ix_tenants_installation_id", table_name="tenants")
    op.create_index("ix_tenants_installation_id", "tenants", ["installation_id"], unique=True)
    op.create_index("ix_tenants_cloud_id", "tenants", ["cloud_id"])


def downgrade() -> None:
    op.drop_index("ix_tenants_cloud_id", table_name="tenants")
    op.drop_index("ix_tenants_installation_id", table_name="tenants")
    op.create_index("ix_tenants_installation_id", "tenants", ["installation_id"])
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("event_source")
