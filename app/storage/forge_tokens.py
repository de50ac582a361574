"""Forge app system tokens, encrypted at rest (implements `app.forge.system_token.SystemTokenStore`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from app.storage.crypto import SecretBox
from app.storage.db import upsert_for
from app.storage.models import ForgeSystemTokenRow

if TYPE_CHECKING:
    from app.forge.system_token import SystemToken

#: Prefix of Forge tenant keys (as in `app.forge.installations`).
_FORGE_PREFIX = "forge:"


class SqlSystemTokenStore:
    """One row per installation holding its latest system token, encrypted, with expiry and API base."""

    def __init__(self, session_factory: sessionmaker[Session], secrets: SecretBox) -> None:
        self._sessions = session_factory
        self._secrets = secrets

    def save_system_token(self, token: SystemToken) -> None:
        """Store `token` for its installation, replacing the previous one."""
        uuid = token.installation_id.rsplit("/", 1)[-1]
        values = dict(
            installation_id=token.installation_id,
            client_key=_FORGE_PREFIX + uuid,
            token_encrypted=self._secrets.encrypt(token.token),
            expires_at=token.expires_at,
            api_base_url=token.api_base_url,
            updated_at=datetime.now(UTC),
        )
        with self._sessions.begin() as session:
            insert = upsert_for(session)(ForgeSystemTokenRow.__table__).values(**values)
            update = {k: insert.excluded[k] for k in values if k != "installation_id"}
            session.execute(insert.on_conflict_do_update(index_elements=["installation_id"], set_=update))

    def load_system_token(self, installation_id: str) -> SystemToken | None:
        """The stored token of an installation, or None."""
        from app.forge.system_token import SystemToken

        with self._sessions() as session:
            row = session.get(ForgeSystemTokenRow, installation_id)
            if row is None:
                return None
            return SystemToken(
                installation_id=row.installation_id,
                token=self._secrets.decrypt(row.token_encrypted),
                expires_at=row.expires_at,
                api_base_url=row.api_base_url,
            )
