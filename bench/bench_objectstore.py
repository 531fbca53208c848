"""Benchmark: Swift PUT/GET through gunicorn vs the raw block pipeline, dedup ratio, worker peak RSS.

Goals (issue 3): PUT >= 0.5x an in-process hash+fsync block pipeline on the same disk; GET >= 0.6x
a raw read of the same block files; dedup ratio of a fixed data set exactly as expected; the
worker's peak RSS during a 1 GiB upload grows by < 64 MiB. Runs a private gunicorn (sync worker,
127.0.0.1) on its own temporary data dir and SQLite database, and removes both afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
PUT_SIZE = 256 * MiB
RSS_SIZE = 1024 * MiB
PASSWORD = "bench-admin-pass"


class Body:
    """`size` bytes generated on the fly (distinct 4 MiB blocks), readable like a file."""

    def __init__(self, size: int, salt: bytes = b"") -> None:
        self.size, self.sent, self.salt = size, 0, salt
        self.pattern = hashlib.sha512(salt).digest() * (MiB // 64)

    def __len__(self) -> int:
        return self.size

    def read(self, n: int = -1) -> bytes:
        n = min(self.size - self.sent if n < 0 else n, self.size - self.sent, MiB)
        chunk = self.sent.to_bytes(8, "big") + self.pattern[8:n] if n >= 8 else self.pattern[:n]
        self.sent += len(chunk)
        return chunk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vm_value(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def token(base: str) -> tuple[str, str]:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": PASSWORD}},
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    response = requests.post(f"{base}/identity/v3/auth/tokens", json=body, timeout=30)
    response.raise_for_status()
    return response.headers["X-Subject-Token"], response.json()["token"]["project"]["id"]


def baseline_put(directory: Path, size: int) -> float:
    """MB/s of the in-process pipeline: read, SHA-256 + MD5, write + fsync each 4 MiB block."""
    from objectstore.blocks.filesystem import FilesystemBlockStore
    from objectstore.services.uploads import store_stream

    store = FilesystemBlockStore(directory)
    body = Body(size, b"baseline")
    started = time.perf_counter()
    store_stream(body.read, block_size=4 * MiB, length=size, store=store)
    return size / MiB / (time.perf_counter() - started)


def raw_read(directory: Path) -> float:
    """MB/s of reading every block file under `directory` (the GET baseline)."""
    total = 0
    started = time.perf_counter()
    for path in directory.rglob("*"):
        if path.is_file() and len(path.name) == 64:
            total += len(path.read_bytes())
    return total / MiB / (time.perf_counter() - started)


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="nefos-bench-objectstore-"))
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_ADMIN_PASSWORD": PASSWORD}
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ.update({k: env[k] for k in ("PORTAL_DATA_DIR", "DJANGO_SETTINGS_MODULE")})
    sys.path.insert(0, str(ROOT))
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "bootstrap"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    gunicorn = str(Path(python).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "portal.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "sync", "-t", "600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import django

        django.setup()
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/info", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        auth, project = token(base)
        headers = {"X-Auth-Token": auth}
        account = f"{base}/v1/AUTH_{project}"
        requests.put(f"{account}/bench", headers=headers, timeout=30).raise_for_status()

        started = time.perf_counter()
        put = requests.put(f"{account}/bench/put", data=Body(PUT_SIZE, b"put"), headers=headers, timeout=600)
        put.raise_for_status()
        put_rate = PUT_SIZE / MiB / (time.perf_counter() - started)
        pipeline_rate = baseline_put(data_dir / "baseline-blocks", PUT_SIZE)
        shutil.rmtree(data_dir / "baseline-blocks")

        started = time.perf_counter()
        got = requests.get(f"{account}/bench/put", headers=headers, stream=True, timeout=600)
        received = sum(len(chunk) for chunk in got.iter_content(MiB))
        get_rate = received / MiB / (time.perf_counter() - started)
        read_rate = raw_read(data_dir / "blocks")

        # Dedup: 8 objects of 4 blocks each drawn from 6 distinct blocks -> 32 logical, 6 stored.
        pool = [hashlib.sha512(bytes([i])).digest() * (4 * MiB // 64) for i in range(6)]
        before = {p.name for p in (data_dir / "blocks").rglob("*") if p.is_file()}
        for n in range(8):
            payload = b"".join(pool[(n + k) % 6] for k in range(4))
            requests.put(f"{account}/bench/dedup-{n}", data=payload, headers=headers, timeout=60).raise_for_status()
        after = {p.name for p in (data_dir / "blocks").rglob("*") if p.is_file()}
        stored = len(after - before)

        worker = worker_pids(server.pid)[0]
        rss_before = vm_value(worker, "VmRSS")
        peak_before = vm_value(worker, "VmHWM")
        big = requests.put(f"{account}/bench/gib", data=Body(RSS_SIZE, b"gib"), headers=headers, timeout=1200)
        big.raise_for_status()
        peak_growth = vm_value(worker, "VmHWM") - max(rss_before, 0)

        print(f"PUT 256 MiB via HTTP      {put_rate:8.1f} MB/s")
        put_ratio = put_rate / pipeline_rate
        print(f"in-process pipeline       {pipeline_rate:8.1f} MB/s   ratio {put_ratio:.2f} (goal >= 0.5)")
        print(f"GET 256 MiB via HTTP      {get_rate:8.1f} MB/s")
        print(f"raw block file read       {read_rate:8.1f} MB/s   ratio {get_rate / read_rate:.2f} (goal >= 0.6)")
        print(f"dedup: 32 logical blocks stored as {stored} (expected 6), ratio {32 / max(stored, 1):.3f}")
        print(
            f"1 GiB PUT: worker peak RSS {vm_value(worker, 'VmHWM') / MiB:.0f} MiB, growth "
            f"{max(peak_growth, 0) / MiB:.1f} MiB over {rss_before / MiB:.0f} MiB (peak before {peak_before / MiB:.0f})"
        )
        return 0 if stored == 6 and peak_growth < 64 * MiB else 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
