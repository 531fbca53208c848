"""Shared start-up of the Django benchmarks: a private data dir and the benchmark database.

With a PostgreSQL DATABASE_URL the benchmarks work in the database `nefos_bench` next to it
(created if missing); otherwise in a private SQLite file. Either way the schema is migrated and
the temporary data dir is removed at exit. Import it from a bench script as `benchdb` (scripts
run with bench/ on sys.path).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "nefos_bench"


def setup_django(prefix: str) -> str:
    """Start Django on the benchmark database (migrated); return a label naming it."""
    url = os.environ.get("DATABASE_URL", "")
    label = "SQLite (private file)"
    if urlsplit(url).scheme in ("postgres", "postgresql", "pgsql"):
        import psycopg
        from psycopg import sql

        parts = urlsplit(url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + BENCH_DB))
        label = f"PostgreSQL {BENCH_DB}"
    else:
        os.environ.pop("DATABASE_URL", None)
    data_dir = tempfile.mkdtemp(prefix=f"nefos-bench-{prefix}-")
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    os.environ["PORTAL_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return label
