"""Run one piece of work in many threads released together (PostgreSQL concurrency tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_threads(work: Callable[[int], Any], threads: int) -> list[Any]:
    """Run `work(i)` for i in range(threads), all released by one barrier; return the results.

    Each thread uses and closes its own database connection. The first exception of any thread is
    re-raised here; a thread still alive after 120 s fails the test (a deadlock, most likely).
    """
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in pool), "a thread hung (deadlock?)"
    if errors:
        raise errors[0]
    return results
