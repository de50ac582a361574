"""Secrets at rest: the key from TIERWISE_SECRET_KEY or a generated instance key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.settings import Settings
from app.storage.crypto import SecretBox, SecretDecryptionError, secret_box_for


def test_without_a_configured_key_one_is_generated_with_mode_0600_and_reused(tmp_path: Path) -> None:
    settings = Settings.from_env({"TIERWISE_INSTANCE_DIR": str(tmp_path / "inst")})
    token = secret_box_for(settings).encrypt("shh")
    key_file = tmp_path / "inst" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert secret_box_for(settings).decrypt(token) == "shh"  # a restarted process reads it back
    assert [p.name for p in key_file.parent.iterdir()] == ["secret.key"]  # no temp file left


def test_configured_key_wins_over_the_key_file(tmp_path: Path) -> None:
    env = {"TIERWISE_INSTANCE_DIR": str(tmp_path), "TIERWISE_SECRET_KEY": "a passphrase not a Fernet key"}
    token = secret_box_for(Settings.from_env(env)).encrypt("shh")
    assert not (tmp_path / "secret.key").exists()
    assert SecretBox(["a passphrase not a Fernet key"]).decrypt(token) == "shh"


def test_comma_separated_keys_rotate(tmp_path: Path) -> None:
    old = SecretBox(["old"])
    token = old.encrypt("shh")
    both = secret_box_for(Settings.from_env({"TIERWISE_SECRET_KEY": "new,old"}))
    assert both.decrypt(token) == "shh"
    assert SecretBox(["new"]).decrypt(both.rotate(token)) == "shh"
    with pytest.raises(SecretDecryptionError):
        SecretBox(["new"]).decrypt(token)


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    box = SecretBox(["k"])
    token = box.encrypt("plain-secret-value")
    assert "plain-secret-value" not in token
    assert box.encrypt("plain-secret-value") != token  # fresh IV each time
