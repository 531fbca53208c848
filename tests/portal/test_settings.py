"""Product settings read from the environment: a secret key made once per data dir, safe defaults.

Each case runs `portal.settings` in a fresh interpreter, so the environment it sees is exactly
the one given (the test session's own settings were loaded long before).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables that would change what the settings module decides.
_SETTINGS_ENV = ("PORTAL_", "DATABASE_URL", "CELERY_", "DJANGO_SETTINGS_MODULE")

_PROBE = """
import json
import portal.settings as s
print(json.dumps({
    "secret_key": s.SECRET_KEY,
    "debug": s.DEBUG,
    "data_dir": str(s.DATA_DIR),
    "database_engine": s.DATABASES["default"]["ENGINE"],
    "database_name": str(s.DATABASES["default"]["NAME"]),
    "broker": s.CELERY_BROKER_URL,
    "allowed_hosts": s.ALLOWED_HOSTS,
}))
"""


def _settings(data_dir: Path, **env: str) -> dict:
    """What portal.settings decides in a fresh process with only `env` (plus PORTAL_DATA_DIR) set."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(_SETTINGS_ENV)}
    clean.update(PORTAL_DATA_DIR=str(data_dir), **env)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_secret_key_generated_once_and_reused_when_not_configured(tmp_path: Path) -> None:
    first = _settings(tmp_path)
    second = _settings(tmp_path)

    key_file = tmp_path / "secret_key"
    assert first["secret_key"] == second["secret_key"]
    assert len(first["secret_key"]) >= 50
    assert key_file.read_text().strip() == first["secret_key"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_key_differs_when_data_dir_differs(tmp_path: Path) -> None:
    assert _settings(tmp_path / "a")["secret_key"] != _settings(tmp_path / "b")["secret_key"]


def test_secret_key_taken_from_environment_when_configured(tmp_path: Path) -> None:
    decided = _settings(tmp_path, PORTAL_SECRET_KEY="shared-by-every-process")

    assert decided["secret_key"] == "shared-by-every-process"
    assert not (tmp_path / "secret_key").exists()


def test_debug_off_when_not_configured(tmp_path: Path) -> None:
    assert _settings(tmp_path)["debug"] is False


def test_debug_on_only_when_asked(tmp_path: Path) -> None:
    assert _settings(tmp_path, PORTAL_DEBUG="true")["debug"] is True


def test_embedded_default_needs_no_service_when_nothing_configured(tmp_path: Path) -> None:
    decided = _settings(tmp_path)

    assert decided["data_dir"] == str(tmp_path.resolve())
    assert decided["database_engine"] == "django.db.backends.sqlite3"
    assert decided["database_name"] == str(tmp_path.resolve() / "portal.sqlite3")
    assert decided["broker"] == "filesystem://"
    assert (tmp_path / "broker" / "queue").is_dir()
    assert decided["allowed_hosts"] == ["localhost", "127.0.0.1", "[::1]"]


def test_postgres_and_rabbitmq_used_when_urls_configured(tmp_path: Path) -> None:
    decided = _settings(
        tmp_path,
        DATABASE_URL="postgres://nefos@db.example:5432/nefos",
        CELERY_BROKER_URL="amqp://nefos:pw@mq.example:5672//",
    )

    assert decided["database_engine"] == "django.db.backends.postgresql"
    assert decided["broker"] == "amqp://nefos:pw@mq.example:5672//"
