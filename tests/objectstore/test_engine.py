"""The storage engine: block store, dedup, integrity, garbage collection, expiry."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from objectstore.blocks import BlockCorrupt, BlockMissing, block_hash
from objectstore.errors import StorageUnavailable
from objectstore.models import Container, Object, ObjectVersion
from objectstore.services import gc, objects, reading, uploads
from objectstore.services.objects import ObjectAttrs

pytestmark = pytest.mark.django_db

BS = 1024  # a small block size keeps multi-block objects cheap


def age(store, digest: str, seconds: float = 3600) -> None:
    """Make a block look written `seconds` ago."""
    past = time.time() - seconds
    os.utime(store.path(digest), (past, past))


@pytest.fixture
def verify_always(settings) -> None:
    """Reads hash every block: the corruption tests below then hold on filesystems with coarse
    timestamps too (`changed` mode is covered by test_integrity.py)."""
    settings.OBJECTSTORE_VERIFY_READS = "always"


@pytest.fixture
def container(swift_project) -> Container:
    return Container.objects.create(project=swift_project, name="c", block_size=BS)


def put(container: Container, name: str, data: bytes, **attrs) -> ObjectVersion:
    stored = uploads.store_bytes(data, block_size=container.block_size)
    return objects.put_object(container, name, stored, ObjectAttrs(**attrs), actor=None)


def test_block_store_writes_fanout_file_when_block_put(store):
    digest = store.put(b"abc")
    assert digest == block_hash(b"abc")
    assert store.path(digest) == store.root / digest[:2] / digest[2:4] / digest
    assert store.get(digest) == b"abc"
    assert store.exists([digest, "0" * 64]) == {digest}
    assert not list(store.root.glob("*/*/.tmp-*"))


def test_block_store_raises_corrupt_and_logs_when_block_bytes_changed(verify_always, store, caplog):
    digest = store.put(b"precious data")
    store.path(digest).write_bytes(b"precious dat4")
    with pytest.raises(BlockCorrupt):
        store.get(digest)
    assert "corrupt" in caplog.text


def test_block_store_raises_missing_when_block_absent(store):
    with pytest.raises(BlockMissing):
        store.get("ab" * 32)


def test_upload_stores_each_block_once_when_same_content_uploaded_twice(container, store):
    data = os.urandom(BS * 3 + 100)
    first = put(container, "one", data)
    second = put(container, "two", data)
    assert first.hashmap == second.hashmap and len(first.hashmap) == 4
    assert len(list(store.iter_blocks())) == 4
    on_disk = sum(store.path(d).stat().st_size for d in set(first.hashmap))
    assert on_disk == len(data)


def test_upload_dedups_blocks_within_object_when_blocks_repeat(container, store):
    version = put(container, "rep", b"x" * BS * 5)
    assert len(set(version.hashmap)) == 1 and len(version.hashmap) == 5
    assert len(list(store.iter_blocks())) == 1


def test_upload_records_md5_and_size_when_stream_split_into_blocks(container):
    data = os.urandom(BS * 2 + 7)
    version = put(container, "obj", data)
    assert version.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert version.size == len(data)
    assert b"".join(reading.open_range(version)) == data
    assert b"".join(reading.open_range(version, BS - 3, BS + 4)) == data[BS - 3 : BS + 5]


def test_read_reports_unavailable_when_first_block_corrupt(verify_always, container, store):
    version = put(container, "obj", b"a" * BS + b"b" * 10)
    store.path(version.hashmap[0]).write_bytes(b"z" * BS)
    with pytest.raises(StorageUnavailable):
        reading.open_range(version)


def test_read_aborts_rather_than_serve_wrong_bytes_when_later_block_corrupt(verify_always, container, store):
    version = put(container, "obj", b"a" * BS + b"b" * 10)
    store.path(version.hashmap[1]).write_bytes(b"c" * 10)
    stream = reading.open_range(version)
    assert next(stream) == b"a" * BS
    with pytest.raises(BlockCorrupt):
        next(stream)


def test_read_touches_only_needed_blocks_when_range_requested(container, store):
    version = put(container, "obj", b"".join(bytes([i]) * BS for i in range(4)))
    os.unlink(store.path(version.hashmap[0]))
    os.unlink(store.path(version.hashmap[3]))
    assert b"".join(reading.open_range(version, BS + 10, 2 * BS + 10)) == b"\x01" * (BS - 10) + b"\x02" * 11


def test_gc_deletes_only_unreferenced_old_blocks_when_collecting(container, store):
    kept = put(container, "kept", b"k" * BS)
    orphan_old = store.put(b"orphan old")
    orphan_new = store.put(b"orphan new")
    for digest in (*kept.hashmap, orphan_old):
        age(store, digest)
    report = gc.collect_garbage(grace=600)
    assert report.deleted == 1
    assert store.exists([*kept.hashmap, orphan_old, orphan_new]) == {*kept.hashmap, orphan_new}


def test_gc_frees_blocks_when_object_overwritten_and_deleted(container, store):
    first = put(container, "obj", b"1" * BS)
    second = put(container, "obj", b"2" * BS)
    for digest in (*first.hashmap, *second.hashmap):
        age(store, digest)
    gc.collect_garbage(grace=600)
    assert store.exists(first.hashmap) == set()
    assert store.exists(second.hashmap) == set(second.hashmap)
    objects.delete_object(container, "obj", actor=None)
    gc.collect_garbage(grace=600)
    assert store.exists(second.hashmap) == set()


def test_gc_never_deletes_block_of_upload_in_progress_when_block_already_existed(container, store):
    old = put(container, "old", b"shared" * 200)
    objects.delete_object(container, "old", actor=None)
    for digest in old.hashmap:
        age(store, digest)
    # An upload is under way: it has stored (deduplicated) the same block but not committed yet.
    in_progress = uploads.store_bytes(b"shared" * 200, block_size=BS)
    gc.collect_garbage(grace=600)
    assert store.exists(in_progress.hashmap) == set(in_progress.hashmap)
    version = objects.put_object(container, "new", in_progress, ObjectAttrs(), actor=None)
    assert b"".join(reading.open_range(version)) == b"shared" * 200


def test_put_refuses_to_publish_version_when_a_block_vanished(container, store):
    stored = uploads.store_bytes(b"q" * BS * 2, block_size=BS)
    os.unlink(store.path(stored.hashmap[0]))
    with pytest.raises(StorageUnavailable):
        objects.put_object(container, "obj", stored, ObjectAttrs(), actor=None)
    assert not ObjectVersion.objects.exists()


def test_purge_removes_objects_when_delete_at_passed(container):
    put(container, "soon", b"bye", delete_at=timezone.now() + timedelta(seconds=1))
    put(container, "later", b"stay", delete_at=timezone.now() + timedelta(days=1))
    assert objects.purge_expired(timezone.now() + timedelta(seconds=5)) == 1
    assert list(Object.objects.values_list("name", flat=True)) == ["later"]


def test_versions_kept_when_container_versioning_auto(container):
    container.versioning = Container.Versioning.AUTO
    container.save()
    put(container, "obj", b"one")
    put(container, "obj", b"two")
    assert ObjectVersion.objects.filter(object__name="obj").count() == 2
    assert b"".join(reading.open_range(objects.get_version(container, "obj"))) == b"two"
