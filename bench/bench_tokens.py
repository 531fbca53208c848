"""Benchmark: token validations per second against an in-process HMAC-verify baseline.

Goal: validation >= 0.15x the baseline, and flat (within noise) with 10,000 revoked tokens.
Runs on its own temporary data dir and SQLite database; prints medians of several rounds.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 5
SECONDS_PER_ROUND = 0.5
REVOKED = 10_000
GOAL = 0.15


def rate(fn, seconds: float = SECONDS_PER_ROUND) -> float:
    """Calls per second of fn() over about `seconds` (bounded)."""
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(200):
            fn()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def median_rate(fn) -> float:
    return statistics.median(rate(fn) for _ in range(ROUNDS))


def main() -> int:
    data_dir = tempfile.mkdtemp(prefix="nefos-bench-tokens-")
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    os.environ["PORTAL_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from identity import tokens
    from identity.models import RevocationEvent

    now = time.time()
    ctx = tokens.TokenContext(
        user_id="a" * 32,
        user_name="bench",
        user_domain_id="default",
        project_id="b" * 32,
        project_name="bench",
        project_domain_id="default",
        roles=("member", "reader"),
        methods=("password",),
        issued_at=now,
        expires_at=now + 3600,
        audit_id=tokens.new_audit_id(),
    )
    token = tokens.encode(ctx)
    body = token.partition(".")[0]
    key = hashlib.sha256(b"baseline").digest()
    expected_mac = hmac.new(key, body.encode(), hashlib.sha256).digest()

    def baseline() -> None:
        mac_now = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
        assert hmac.compare_digest(mac_now, expected_mac)

    def validate() -> None:
        tokens.validate(token)

    base = median_rate(baseline)
    clean = median_rate(validate)
    fresh_tokens = [
        tokens.encode(ctx.__class__(**{**ctx.__dict__, "audit_id": tokens.new_audit_id()})) for _ in range(20_000)
    ]
    started = time.perf_counter()
    for each in fresh_tokens:
        tokens.validate(each)
    cold = len(fresh_tokens) / (time.perf_counter() - started)
    revoked_at = timezone.now()
    RevocationEvent.objects.bulk_create(
        [RevocationEvent(audit_id=tokens.new_audit_id(), issued_before=revoked_at) for _ in range(REVOKED // 2)]
        + [RevocationEvent(user_id=f"{i:032x}", issued_before=revoked_at) for i in range(REVOKED // 2)]
    )
    tokens.touch_revocation_stamp()
    validate()  # loads the new events once
    loaded = median_rate(validate)

    print(f"token_validate baseline (in-process HMAC verify): {base:,.0f}/s")
    print(f"token_validate 0 revoked:      {clean:,.0f}/s  ratio {clean / base:.2f}x (goal >= {GOAL}x)")
    print(f"token_validate first sight (signature + payload checked): {cold:,.0f}/s  ratio {cold / base:.2f}x")
    print(f"token_validate {REVOKED:,} revoked: {loaded:,.0f}/s  ratio {loaded / base:.2f}x (goal >= {GOAL}x)")
    print(f"token_validate flatness (10k revoked / 0 revoked): {loaded / clean:.2f}x (goal ~1.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
