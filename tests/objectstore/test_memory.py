"""Streaming keeps memory flat: a 256 MiB PUT, or GET, through the live server grows RSS by < 64 MiB.

The live server runs in the pytest process, so that process's resident set is measured: sampled
every few milliseconds from /proc/self/status while the upload runs (the client generates its
bytes on the fly, so it holds one small buffer too).
"""

from __future__ import annotations

import gc
import hashlib
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

MiB = 1024 * 1024
SIZE = 256 * MiB
LIMIT = 64 * MiB


def rss_bytes() -> int:
    """The current resident set size of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found")


class RssSampler(threading.Thread):
    """Samples RSS until stopped; `peak` is the largest value seen."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_bytes()
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.002)


class GeneratedBody:
    """A file-like body of `size` pseudo-random bytes made on the fly (256 KiB pattern, counter-salted)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sent = 0
        self.pattern = hashlib.sha256(b"seed").digest() * 8192
        self.doubled = self.pattern * 2
        self.md5 = hashlib.md5(usedforsecurity=False)

    def __len__(self) -> int:
        return self.size

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.sent if n < 0 else min(n, self.size - self.sent)
        offset = self.sent % len(self.pattern)
        n = min(n, len(self.pattern))
        chunk = self.doubled[offset : offset + n]
        if n >= 8:
            chunk = self.sent.to_bytes(8, "big") + chunk[8:]
        self.sent += len(chunk)
        self.md5.update(chunk)
        return chunk


def test_upload_grows_server_rss_less_than_64mib_when_256mib_object_put(portal, capsys):
    sess = portal.session()
    endpoint = sess.get_endpoint(service_type="object-store", interface="public")
    token = sess.get_token()
    assert requests.put(f"{endpoint}/mem", headers={"X-Auth-Token": token}, timeout=30).status_code == 201
    gc.collect()
    baseline = rss_bytes()
    sampler = RssSampler()
    sampler.start()
    body = GeneratedBody(SIZE)
    try:
        response = requests.put(
            f"{endpoint}/mem/big",
            data=body,
            headers={"X-Auth-Token": token, "Content-Length": str(SIZE)},
            timeout=600,
        )
    finally:
        sampler.halt.set()
        sampler.join()
    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == body.md5.hexdigest()
    growth = sampler.peak - baseline
    with capsys.disabled():
        sys.stdout.write(f"\n256 MiB PUT: peak RSS growth {growth / MiB:.1f} MiB (baseline {baseline / MiB:.0f} MiB)\n")
    assert growth < LIMIT


def test_download_grows_server_rss_less_than_64mib_when_256mib_object_got(portal, capsys):
    sess = portal.session()
    endpoint = sess.get_endpoint(service_type="object-store", interface="public")
    headers = {"X-Auth-Token": sess.get_token()}
    assert requests.put(f"{endpoint}/memget", headers=headers, timeout=30).status_code == 201
    body = GeneratedBody(SIZE)
    put = requests.put(
        f"{endpoint}/memget/big", data=body, headers={**headers, "Content-Length": str(SIZE)}, timeout=600
    )
    assert put.status_code == 201, put.text
    gc.collect()
    baseline = rss_bytes()
    sampler = RssSampler()
    sampler.start()
    md5 = hashlib.md5(usedforsecurity=False)
    received = 0
    try:
        with requests.get(f"{endpoint}/memget/big", headers=headers, stream=True, timeout=600) as got:
            assert got.status_code == 200
            for chunk in got.iter_content(MiB):
                md5.update(chunk)
                received += len(chunk)
    finally:
        sampler.halt.set()
        sampler.join()
    assert received == SIZE and md5.hexdigest() == body.md5.hexdigest()
    growth = sampler.peak - baseline
    with capsys.disabled():
        sys.stdout.write(f"\n256 MiB GET: peak RSS growth {growth / MiB:.1f} MiB (baseline {baseline / MiB:.0f} MiB)\n")
    assert growth < LIMIT
