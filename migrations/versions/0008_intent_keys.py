"""Idempotency keys on outbox intents: a triage page is staged once per ticket and occasion.

`Intent.key` (e.g. `triage:<issue>:arrived:sev1:0`) is stored in `outbox.idem_key`; the unique
index on (client_key, idem_key) refuses a second intent with the same key whichever event, retry or
worker computed it (NULL keys never collide).

Revision ID: 0008_intent_keys
Revises: 0005_installation_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_intent_keys"
down_revision = "0007_outbound_secrets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("idem_key", sa.String(255), nullable=True))
        batch.create_unique_constraint("uq_outbox_idem_key", ["client_key", "idem_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_idem_key", type_="unique")
        batch.drop_column("idem_key")
