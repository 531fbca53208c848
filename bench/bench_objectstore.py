"""Benchmark: Swift PUT/GET through gunicorn vs the raw block pipeline, dedup ratio, worker peak RSS.

Goals (issue 3): PUT >= 0.5x an in-process hash+fsync block pipeline on the same disk; GET >= 0.6x
a raw read of the same block files; dedup ratio of a fixed data set exactly as expected; the
worker's peak RSS during a 1 GiB upload grows by < 64 MiB. Runs private gunicorns (sync worker,
127.0.0.1) on its own temporary data dir and SQLite database, and removes both afterwards.

GET is measured GET_RUNS times and the median reported, for both read modes
(OBJECTSTORE_VERIFY_READS=changed, the default, and always; one gunicorn each, same data), against:
- the raw read of the object's block files in this process, with the page cache warm (the goal's
  baseline as written) and cold (each file's pages dropped with POSIX_FADV_DONTNEED before a run,
  for the GET too): cold compares two reads from the disk, warm compares HTTP with a memory copy;
- the same block files served by a bare WSGI app (`raw_app`) on the same gunicorn and read by the
  same client: the transport alone, i.e. the most any Django view could reach here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
PUT_SIZE = 256 * MiB
RSS_SIZE = 1024 * MiB
PASSWORD = "bench-admin-pass"
GET_RUNS = 5
COLD_RUNS = 5
RAW_LIST_ENV = "NEFOS_BENCH_RAW_BLOCKS"


def raw_app(environ: dict, start_response: Callable) -> Iterator[bytes]:
    """A bare WSGI app sending the block files listed in $NEFOS_BENCH_RAW_BLOCKS, one piece per file."""
    paths = Path(os.environ[RAW_LIST_ENV]).read_text().split()
    total = sum(os.path.getsize(p) for p in paths)
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(total))])
    return (Path(p).read_bytes() for p in paths)


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


def raw_read(paths: list[Path]) -> float:
    """MB/s of reading the given block files in this process (the GET baseline)."""
    total = 0
    started = time.perf_counter()
    for path in paths:
        total += len(path.read_bytes())
    return total / MiB / (time.perf_counter() - started)


def evict(paths: list[Path]) -> None:
    """Drop the files' pages from the page cache (they are clean: written and fsynced)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def get_rate(url: str, headers: dict[str, str], expected: int) -> float:
    """MB/s of one streamed GET (1 MiB client reads), checking the length received."""
    started = time.perf_counter()
    with requests.get(url, headers=headers, stream=True, timeout=600) as got:
        got.raise_for_status()
        received = sum(len(chunk) for chunk in got.iter_content(MiB))
    if received != expected:
        raise RuntimeError(f"GET {url}: {received} bytes, expected {expected}")
    return received / MiB / (time.perf_counter() - started)


def medians(runs: int, measures: dict[str, Callable[[], float]], before: Callable[[], None] | None = None) -> dict:
    """The median of `runs` measurements of each, taken round-robin so that load on a shared machine
    hits every variant alike (`before` runs, untimed, ahead of each measurement)."""
    values: dict[str, list[float]] = {label: [] for label in measures}
    for _ in range(runs):
        for label, measure in measures.items():
            if before:
                before()
            values[label].append(measure())
    return {label: statistics.median(got) for label, got in values.items()}


def start_gunicorn(app: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """A one-worker sync gunicorn on a free 127.0.0.1 port; its process and base URL once it answers."""
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, app, "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "sync", "-t", "600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(f"{base}/info", timeout=10)
            break
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    return server, base


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="nefos-bench-objectstore-"))
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_ADMIN_PASSWORD": PASSWORD}
    env.pop("DATABASE_URL", None)
    env.pop("OBJECTSTORE_VERIFY_READS", None)
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ.update({k: env[k] for k in ("PORTAL_DATA_DIR", "DJANGO_SETTINGS_MODULE")})
    sys.path.insert(0, str(ROOT))
    python = sys.executable
    servers: list[subprocess.Popen] = []
    try:
        subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([python, "manage.py", "bootstrap"], cwd=ROOT, env=env, check=True, capture_output=True)
        import django

        django.setup()
        server, base = start_gunicorn("portal.wsgi:application", env)
        servers.append(server)
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

        url = f"{account}/bench/put"
        hashmap = requests.get(url, params={"hashmap": ""}, headers=headers, timeout=60).json()["hashes"]
        blocks = [data_dir / "blocks" / h[:2] / h[2:4] / h for h in hashmap]
        (data_dir / "raw-blocks.txt").write_text("\n".join(map(str, blocks)))
        always, always_base = start_gunicorn("portal.wsgi:application", {**env, "OBJECTSTORE_VERIFY_READS": "always"})
        raw, raw_base = start_gunicorn(
            "bench.bench_objectstore:raw_app", {**env, RAW_LIST_ENV: str(data_dir / "raw-blocks.txt")}
        )
        servers += [always, raw]
        always_url = url.replace(base, always_base)

        get_rate(url, headers, PUT_SIZE)  # warm the page cache (and the marks, if any were missing)
        warm = medians(
            GET_RUNS,
            {
                "changed": lambda: get_rate(url, headers, PUT_SIZE),
                "always": lambda: get_rate(always_url, headers, PUT_SIZE),
                "raw HTTP": lambda: get_rate(f"{raw_base}/", {}, PUT_SIZE),
                "raw read": lambda: raw_read(blocks),
            },
        )
        cold = medians(
            COLD_RUNS,
            {
                "changed": lambda: get_rate(url, headers, PUT_SIZE),
                "always": lambda: get_rate(always_url, headers, PUT_SIZE),
                "raw read": lambda: raw_read(blocks),
            },
            before=lambda: evict(blocks),
        )

        # Dedup: 8 objects of 4 blocks each drawn from 6 distinct blocks -> 32 logical, 6 stored.
        pool = [hashlib.sha512(bytes([i])).digest() * (4 * MiB // 64) for i in range(6)]
        before = {p.name for p in (data_dir / "blocks").rglob("*") if p.is_file()}
        for n in range(8):
            payload = b"".join(pool[(n + k) % 6] for k in range(4))
            requests.put(f"{account}/bench/dedup-{n}", data=payload, headers=headers, timeout=60).raise_for_status()
        after = {p.name for p in (data_dir / "blocks").rglob("*") if p.is_file()}
        stored = len(after - before)

        worker = worker_pids(servers[0].pid)[0]
        rss_before = vm_value(worker, "VmRSS")
        peak_before = vm_value(worker, "VmHWM")
        big = requests.put(f"{account}/bench/gib", data=Body(RSS_SIZE, b"gib"), headers=headers, timeout=1200)
        big.raise_for_status()
        peak_growth = vm_value(worker, "VmHWM") - max(rss_before, 0)

        print(f"PUT 256 MiB via HTTP      {put_rate:8.1f} MB/s")
        put_ratio = put_rate / pipeline_rate
        print(f"in-process pipeline       {pipeline_rate:8.1f} MB/s   ratio {put_ratio:.2f} (goal >= 0.5)")
        print(
            f"GET 256 MiB, median of {GET_RUNS} (page cache warm), MB/s; ratio to raw read (goal >= 0.6), to raw HTTP:"
        )
        for label, rate in warm.items():
            print(f"  {label:<18}{rate:8.1f}   {rate / warm['raw read']:.2f}   {rate / warm['raw HTTP']:.2f}")
        print(f"GET 256 MiB, median of {COLD_RUNS} (page cache dropped before each), MB/s; ratio to raw read:")
        for label, rate in cold.items():
            print(f"  {label:<18}{rate:8.1f}   {rate / cold['raw read']:.2f}")
        print(f"dedup: 32 logical blocks stored as {stored} (expected 6), ratio {32 / max(stored, 1):.3f}")
        print(
            f"1 GiB PUT: worker peak RSS {vm_value(worker, 'VmHWM') / MiB:.0f} MiB, growth "
            f"{max(peak_growth, 0) / MiB:.1f} MiB over {rss_before / MiB:.0f} MiB (peak before {peak_before / MiB:.0f})"
        )
        return 0 if stored == 6 and peak_growth < 64 * MiB else 1
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
