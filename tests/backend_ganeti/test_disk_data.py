"""The data plane (`read_disk` / `write_disk`): a real agent subprocess on simulated nodes, whose
file disks are sparse files, and the Ganeti driver refusing it."""

from __future__ import annotations

import hashlib

import pytest

from backend_ganeti.drivers.ganeti import GanetiDriver
from backend_ganeti.drivers.types import CreateSpec, DiskSpec
from backend_ganeti.rapi.client import RapiClient
from backend_ganeti.rapi.errors import BadRequest, NotFound, NotSupported
from tests.backend_ganeti.libvirt_agent import finish, running_agent, spec

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def agent():
    with running_agent(build_delay=0.02, op_delay=0.01) as process:
        yield process


@pytest.fixture
def driver(agent):
    return agent.driver()


def created(driver, name: str, **fields) -> str:
    status = finish(driver, driver.create(spec(name, **fields)))
    assert status.state == "success", status
    return name


def read_all(driver, name: str, disk: int | str) -> bytes:
    data = driver.read_disk(name, disk)
    body = b"".join(data.chunks)
    assert len(body) == data.size
    return body


def test_blank_disk_reads_as_zeros_of_its_size_and_is_a_sparse_file_when_simulated(driver, agent):
    created(driver, "dd-blank", disk_mb=4)
    assert driver.disk_data_supported() is True
    assert read_all(driver, "dd-blank", 0) == b"\0" * (4 * MIB)
    files = list((agent.state_dir / "disks" / "dd-blank").glob("disk-*.img"))
    assert len(files) == 1 and files[0].stat().st_size == 4 * MIB and files[0].stat().st_blocks == 0
    assert files[0].stat().st_mode & 0o777 == 0o600


def test_written_bytes_read_back_at_the_start_when_the_rest_is_kept(driver):
    created(driver, "dd-write", disk_mb=4)
    payload = hashlib.sha512(b"nefos").digest() * 40_000  # 2.4 MiB, not a multiple of the chunk size
    pieces = [payload[i : i + 300_000] for i in range(0, len(payload), 300_000)]
    assert driver.write_disk("dd-write", 0, iter(pieces), size=len(payload)) == len(payload)
    body = read_all(driver, "dd-write", 0)
    assert body[: len(payload)] == payload and body[len(payload) :] == b"\0" * (4 * MIB - len(payload))
    assert driver.write_disk("dd-write", 0, [b"AB"], size=2) == 2  # no truncation: only 2 bytes change
    assert read_all(driver, "dd-write", 0)[:4] == b"AB" + payload[2:4]


def test_disk_is_found_by_name_when_added_later_and_removed_with_the_instance(driver, agent):
    created(driver, "dd-named", disk_mb=2)
    assert finish(driver, driver.add_disk("dd-named", DiskSpec(size_mb=1, name="vol-1"))).state == "success"
    driver.write_disk("dd-named", "vol-1", [b"volume!"], size=7)
    assert read_all(driver, "dd-named", "vol-1")[:7] == b"volume!"
    assert read_all(driver, "dd-named", 1)[:7] == b"volume!"
    assert read_all(driver, "dd-named", 0) == b"\0" * (2 * MIB)
    assert finish(driver, driver.destroy("dd-named")).state == "success"
    assert not (agent.state_dir / "disks" / "dd-named").exists()


def test_disk_data_requests_raise_when_disk_instance_or_size_is_wrong(driver):
    created(driver, "dd-bad", disk_mb=1)
    with pytest.raises(NotFound):
        driver.read_disk("dd-bad", 3)
    with pytest.raises(NotFound):
        driver.read_disk("dd-missing", 0)
    with pytest.raises(NotFound):
        driver.write_disk("dd-bad", "nope", [b"x"], size=1)
    with pytest.raises(BadRequest, match="do not fit"):
        driver.write_disk("dd-bad", 0, [b"\1" * (MIB + 1)], size=MIB + 1)
    assert read_all(driver, "dd-bad", 0) == b"\0" * MIB  # nothing written
    diskless = CreateSpec(name="dd-diskless", vcpus=1, memory_mb=64, disk_template="diskless", disks=())
    assert finish(driver, driver.create(diskless)).state == "success"
    with pytest.raises(BadRequest, match="no disk files"):
        driver.read_disk("dd-diskless", 0)


def test_write_raises_when_chunks_do_not_match_the_size_and_the_agent_still_answers(driver):
    created(driver, "dd-short", disk_mb=1)
    with pytest.raises(ValueError, match="only 3 of the announced 10"):
        driver.write_disk("dd-short", 0, [b"abc"], size=10)
    with pytest.raises(ValueError, match="more than the announced 2"):
        driver.write_disk("dd-short", 0, [b"abc"], size=2)
    assert driver.write_disk("dd-short", 0, [b"ok"], size=2) == 2  # the agent survived both
    assert read_all(driver, "dd-short", 0)[:2] == b"ok"


def test_ganeti_driver_refuses_disk_data_when_asked():
    driver = GanetiDriver(RapiClient("https://ganeti.invalid:5080", username="u", password="p", cluster="lab-a"))
    assert driver.disk_data_supported() is False
    with pytest.raises(NotSupported, match="RAPI has no call"):
        driver.read_disk("vm", 0)
    with pytest.raises(NotSupported, match="lab-a"):
        driver.write_disk("vm", 0, [b"x"], size=1)
