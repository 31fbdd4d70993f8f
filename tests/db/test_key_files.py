"""The data directory is created for its owner only, and a kept key others can read is refused."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.settings import ConfigError, Settings, ensure_private_dir, load_or_create_secret
from tests.utils.db import ROOT, cli_env, navigator_cmd


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_is_created_0700_whatever_the_umask(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "nested" / "data"
    load_or_create_secret(data / "jwt_secret")
    assert mode(data) == 0o700 and mode(data / "jwt_secret") == 0o600
    existing = tmp_path / "chosen"
    existing.mkdir(mode=0o750)
    ensure_private_dir(existing)
    assert mode(existing) == 0o750  # an existing directory keeps the mode its owner chose


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660])
def test_a_secret_file_open_to_others_is_refused(tmp_path: Path, loose: int) -> None:
    secret = tmp_path / "jwt_secret"
    secret.write_text("s" * 48 + "\n")
    secret.chmod(loose)
    with pytest.raises(ConfigError) as refused:
        load_or_create_secret(secret)
    message = str(refused.value)
    assert message.startswith("JWT_SECRET_KEY kept in") and f"mode {loose:04o}" in message
    assert f"chmod 600 {secret}" in message and "s" * 48 not in message
    secret.chmod(0o600)
    assert load_or_create_secret(secret) == "s" * 48


def test_the_document_key_file_is_held_to_the_same_rule(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, navigator_data_dir=tmp_path)  # type: ignore[call-arg]
    key = settings.document_key()
    (tmp_path / "document_key").chmod(0o644)
    fresh = Settings(_env_file=None, navigator_data_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"^DOCUMENT_ENCRYPTION_KEY kept in .* chmod 600"):
        fresh.document_key()
    (tmp_path / "document_key").chmod(0o600)
    assert fresh.document_key() == key


def test_setup_and_serve_refuse_a_readable_secret_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "jwt_secret").write_text("t" * 48 + "\n")
    (data / "jwt_secret").chmod(0o644)
    env = cli_env(None, NAVIGATOR_DATA_DIR=str(data))
    env.pop("JWT_SECRET_KEY")
    env.pop("DOCUMENT_ENCRYPTION_KEY")
    setup = subprocess.run([*navigator_cmd(), "setup"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert setup.returncode == 1
    first = setup.stdout.splitlines()[0]
    assert first.startswith("✗ environment") and "open to other users (mode 0644)" in first and "chmod 600" in first
    serve = subprocess.run([*navigator_cmd(), "serve", "--port", "0"], env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert serve.returncode == 1
    assert serve.stderr.strip().startswith("navigator: error: JWT_SECRET_KEY kept in") and "t" * 48 not in serve.stderr
    assert len(serve.stderr.strip().splitlines()) == 1
