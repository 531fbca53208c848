"""Block integrity: read modes (always / changed with verified marks), quarantine, the scrub and its command."""

from __future__ import annotations

import io
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from objectstore import tasks
from objectstore.blocks import BlockQuarantined, ScrubOutcome, block_hash, block_store, filesystem, marks
from objectstore.errors import StorageUnavailable
from objectstore.models import Container, ObjectVersion
from objectstore.services import gc, objects, reading, scrub, uploads
from objectstore.services.objects import ObjectAttrs

pytestmark = pytest.mark.django_db

BS = 1024


def flip(path, *, keep_mtime: bool) -> None:
    """Change one byte of a block file in place; with `keep_mtime`, as silent rot would (mtime restored)."""
    st = os.stat(path)
    with open(path, "r+b") as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        # A write moves the mtime; make sure it differs even where timestamps are coarse.
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def always(settings):
    settings.OBJECTSTORE_VERIFY_READS = "always"
    return block_store()


@pytest.fixture
def changed(settings):
    settings.OBJECTSTORE_VERIFY_READS = "changed"
    return block_store()


@pytest.fixture
def container(swift_project) -> Container:
    return Container.objects.create(project=swift_project, name="c", block_size=BS)


def put(container: Container, name: str, data: bytes) -> ObjectVersion:
    stored = uploads.store_bytes(data, block_size=container.block_size)
    return objects.put_object(container, name, stored, ObjectAttrs(), actor=None)


@pytest.fixture
def hashes(monkeypatch) -> list[int]:
    """Counts the SHA-256 computations of block reads (one entry per hashed block, its length)."""
    calls: list[int] = []

    def counting(data: bytes) -> str:
        calls.append(len(data))
        return block_hash(data)

    monkeypatch.setattr(filesystem, "block_hash", counting)
    return calls


def test_read_quarantines_and_logs_hash_when_bytes_rot_in_always_mode(always, caplog):
    digest = always.put(b"precious data" * 100)
    flip(always.path(digest), keep_mtime=True)
    with pytest.raises(BlockQuarantined):
        always.get(digest)
    assert not always.path(digest).exists()
    assert (always.quarantine_dir / digest).read_bytes() != b"precious data" * 100
    assert f"objectstore block corrupt {digest}" in caplog.text
    with pytest.raises(BlockQuarantined):  # later reads keep failing, as corrupt rather than missing
        always.get(digest)


def test_read_hashes_every_block_when_mode_always(always, hashes):
    digest = always.put(b"a" * BS)
    hashes.clear()
    assert always.get(digest) == b"a" * BS
    assert always.get_range(digest, 10, 20) == b"a" * 10
    assert hashes == [BS, BS]


def test_read_skips_hash_when_block_unchanged_since_written_in_changed_mode(changed, hashes):
    digest = changed.put(b"b" * BS)
    hashes.clear()
    assert changed.get(digest) == b"b" * BS
    assert hashes == []


def test_read_detects_corruption_when_block_file_written_in_changed_mode(changed, hashes, caplog):
    digest = changed.put(b"c" * BS)
    flip(changed.path(digest), keep_mtime=False)
    hashes.clear()
    with pytest.raises(BlockQuarantined):
        changed.get(digest)
    assert hashes == [BS] and "corrupt" in caplog.text


@pytest.mark.parametrize("how", ["truncate", "rename-over", "no-mark"])
def test_read_hashes_block_when_file_no_longer_matches_mark_in_changed_mode(changed, hashes, how):
    digest = changed.put(b"d" * BS)
    path = changed.path(digest)
    if how == "truncate":
        os.truncate(path, BS - 1)
    elif how == "rename-over":  # another (marked, intact) block file moved over this one
        other = changed.put(b"e" * BS)
        os.replace(changed.path(other), path)
    else:
        os.removexattr(path, marks.XATTR)
    hashes.clear()
    if how == "no-mark":
        assert changed.get(digest) == b"d" * BS and hashes == [BS]
        assert marks.is_current(marks.read(str(path)), digest, os.stat(path))  # marked again once verified
    else:
        with pytest.raises(BlockQuarantined):
            changed.get(digest)


def test_touch_keeps_mark_current_when_upload_refreshes_block(changed, hashes):
    digest = changed.put(b"f" * BS)
    before = os.stat(changed.path(digest)).st_mtime_ns
    os.utime(changed.path(digest), ns=(before - 10**10, before - 10**10))  # an old block...
    fd = os.open(changed.path(digest), os.O_RDONLY)
    marks.write(fd, digest, os.fstat(fd), 1.0)
    os.close(fd)
    assert changed.touch([digest]) == set()  # ...touched again by a new upload
    hashes.clear()
    assert os.stat(changed.path(digest)).st_mtime_ns > before - 10**10
    assert changed.get(digest) == b"f" * BS and hashes == []


def test_range_read_reads_only_bytes_needed_when_blocks_verified(container, changed, monkeypatch):
    version = put(container, "obj", b"".join(bytes([i]) * BS for i in range(4)))
    read: list[int] = []
    real = filesystem._pread
    monkeypatch.setattr(filesystem, "_pread", lambda fd, n, off: read.append(n) or real(fd, n, off))
    assert b"".join(reading.open_range(version, BS + 10, 2 * BS + 10)) == b"\x01" * (BS - 10) + b"\x02" * 11
    assert read == [BS - 10, 11]


def test_scrub_finds_silent_rot_that_changed_mode_reads_miss(container, changed, swift, caplog):
    """Bytes that change without the file's metadata changing pass a `changed` read; the scrub finds them."""
    box = Container.objects.create(project=container.project, name="box")
    version = put(box, "doc", b"g" * 5000)
    path = changed.path(version.hashmap[0])
    flip(path, keep_mtime=True)
    assert swift("GET", "box", "doc").status_code == 200  # the documented gap of `changed` mode
    report = scrub.scrub_blocks()
    assert list(report.corrupt) == [version.hashmap[0]] and report.checked == 1 and report.ok == 0
    assert report.users[version.hashmap[0]] == [f"AUTH_{box.project_id}/box/doc (version {version.pk})"]
    response = swift("GET", "box", "doc")
    assert response.status_code == 503 and b"integrity check" in response.content
    assert swift("HEAD", "box", "doc").status_code == 200  # metadata is intact; only reads fail
    assert f"corrupt block {version.hashmap[0]} used by 1 version(s)" in caplog.text


def test_reading_fails_with_unavailable_when_first_block_quarantined(container, changed):
    version = put(container, "obj", b"h" * BS + b"i" * 10)
    flip(changed.path(version.hashmap[0]), keep_mtime=True)
    assert changed.scrub(version.hashmap[0]).outcome is ScrubOutcome.CORRUPT
    with pytest.raises(StorageUnavailable, match="integrity check"):
        reading.open_range(version)


def test_reupload_heals_objects_when_their_block_was_quarantined(container, changed):
    data = b"j" * BS
    version = put(container, "one", data)
    flip(changed.path(version.hashmap[0]), keep_mtime=True)
    scrub.scrub_blocks()
    with pytest.raises(StorageUnavailable):
        reading.open_range(version)
    put(container, "two", data)  # the same bytes stored again: the block is written afresh
    assert b"".join(reading.open_range(version)) == data


def test_scrub_command_quarantines_and_prints_users_when_block_corrupt(container, changed):
    version = put(container, "obj", b"k" * BS + b"l" * BS)
    bad = version.hashmap[1]
    flip(changed.path(bad), keep_mtime=True)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 corrupt block"):
        call_command("scrub_blocks", stdout=out)
    text = out.getvalue()
    assert f"CORRUPT {bad} quarantined to {changed.quarantine_dir / bad}" in text
    assert f"  used by AUTH_{container.project_id}/c/obj (version {version.pk})" in text
    assert "checked 2 blocks" in text and "1 ok, 1 corrupt, 0 missing" in text
    assert (changed.quarantine_dir / bad).exists() and not changed.path(bad).exists()


def test_scrub_command_moves_nothing_when_dry_run(container, changed):
    version = put(container, "obj", b"m" * BS)
    digest = version.hashmap[0]
    flip(changed.path(digest), keep_mtime=True)
    mark_before = marks.read(str(changed.path(digest)))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("scrub_blocks", "--dry-run", stdout=out)
    assert f"CORRUPT {digest} left in place (dry run)" in out.getvalue()
    assert "dry run: nothing moved or recorded" in out.getvalue()
    assert changed.path(digest).exists() and not changed.quarantine_dir.exists()
    assert marks.read(str(changed.path(digest))) == mark_before


def test_scrub_command_checks_least_recently_verified_first_when_limited(container, changed):
    digests = [changed.put(bytes([i]) * BS) for i in range(3)]
    for when, digest in zip((300.0, 100.0, 200.0), digests, strict=True):
        fd = os.open(changed.path(digest), os.O_RDONLY)
        marks.write(fd, digest, os.fstat(fd), when)
        os.close(fd)
    out = io.StringIO()
    call_command("scrub_blocks", "--limit", "2", stdout=out)
    assert "checked 2 blocks" in out.getvalue() and "2 ok, 0 corrupt" in out.getvalue()
    verified = {d: marks.read(str(changed.path(d))).verified_at for d in digests}
    assert verified[digests[0]] == 300.0  # the most recently verified one was left for the next run
    assert verified[digests[1]] > 1e9 and verified[digests[2]] > 1e9


def test_scrub_command_refuses_limit_when_not_positive(changed):
    with pytest.raises(CommandError, match="positive"):
        call_command("scrub_blocks", "--limit", "0", stdout=io.StringIO())


def test_scrub_task_returns_counts_when_run(container, changed):
    put(container, "obj", b"n" * BS * 2 + b"o")
    assert tasks.scrub_blocks() == {"checked": 2, "ok": 2, "corrupt": 0, "missing": 0}


def test_gc_and_scrub_leave_quarantine_alone_when_walking_blocks(container, changed):
    version = put(container, "obj", b"p" * BS)
    flip(changed.path(version.hashmap[0]), keep_mtime=True)
    scrub.scrub_blocks()
    assert list(changed.iter_blocks()) == []
    gc.collect_garbage(grace=0)
    assert (changed.quarantine_dir / version.hashmap[0]).exists()


def test_block_store_refuses_setting_when_read_mode_unknown(settings):
    settings.OBJECTSTORE_VERIFY_READS = "sometimes"
    with pytest.raises(ImproperlyConfigured):
        block_store()


def test_read_raises_block_error_not_oserror_when_disk_fails(container, changed, monkeypatch, caplog):
    version = put(container, "obj", b"q" * BS)

    def failing(fd: int, length: int, offset: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(filesystem, "_pread", failing)
    with pytest.raises(StorageUnavailable):
        reading.open_range(version)
    assert f"objectstore block unreadable {version.hashmap[0]}" in caplog.text
    assert changed.scrub(version.hashmap[0]).outcome is ScrubOutcome.CORRUPT  # quarantined: the bytes are lost
