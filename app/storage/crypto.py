"""Encrypt secrets at rest (shared secrets, Forge system tokens) with Fernet.

The key comes from `TIERWISE_SECRET_KEY`: one Fernet key, or several separated by commas for
rotation (the first encrypts, every one decrypts; `tierwise rotate-secrets` re-encrypts stored
values under the first). Without it the embedded default generates a key into
`instance/secret.key` (mode 0600) on first use and reuses it afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.settings import Settings

#: File holding the generated key when TIERWISE_SECRET_KEY is unset.
KEY_FILE_NAME = "secret.key"


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key (wrong or rotated-out key)."""


def _fernet(key: str) -> Fernet:
    """A Fernet for a configured key: a Fernet key as is, any other passphrase hashed to one."""
    raw = key.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return Fernet(raw)
    except ValueError:
        pass
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw).digest()))


class SecretBox:
    """Encrypts and decrypts short secrets; the first key encrypts, every key decrypts."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("SecretBox needs at least one key")
        self._fernet = MultiFernet([_fernet(k) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        """The Fernet token (ASCII) for `plaintext`."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of a Fernet token made with any configured key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret does not decrypt with TIERWISE_SECRET_KEY") from exc

    def rotate(self, token: str) -> str:
        """`token` re-encrypted under the first (current) key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretDecryptionError("stored secret does not decrypt with TIERWISE_SECRET_KEY") from exc


def _generated_key(instance_dir: Path) -> str:
    """The instance's generated key, created with mode 0600 on first use."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / KEY_FILE_NAME
    if not path.exists():
        # Written whole to a private temp file, then linked into place: a process starting at the
        # same moment either sees no file or the complete key, and only one key ever wins.
        tmp = instance_dir / f".{KEY_FILE_NAME}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode("ascii") + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def secret_box_for(settings: Settings) -> SecretBox:
    """The SecretBox for these settings (TIERWISE_SECRET_KEY, else the instance key file)."""
    if settings.secret_key:
        keys = [k for k in settings.secret_key.split(",") if k.strip()]
    else:
        keys = [_generated_key(settings.instance_dir)]
    return SecretBox(keys)
