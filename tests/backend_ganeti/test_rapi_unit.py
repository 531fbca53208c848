"""Unit tests of the RAPI client against a scripted fake server (no Ganeti needed)."""

from __future__ import annotations

import base64
import logging
import socket

import pytest

from backend_ganeti.rapi import (
    AuthenticationFailed,
    BadRequest,
    ClusterUnreachable,
    Conflict,
    GanetiApiError,
    InstanceSpec,
    JobFailed,
    NotFound,
    RapiClient,
    ServiceUnavailable,
)
from tests.backend_ganeti.fake_rapi import FakeRapi

SECRET = "s3cr3t-pass"


@pytest.fixture
def fake():
    server = FakeRapi().start()
    yield server
    server.stop()


@pytest.fixture
def client(fake):
    rapi = RapiClient(fake.url, username="nefos", password=SECRET, cluster="test", retries=3, retry_wait=0)
    yield rapi
    rapi.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_info_parses_cluster_when_answered(fake, client):
    fake.add(
        "GET", "/2/info", {"name": "c1", "master": "n1", "software_version": "3.0.2", "enabled_hypervisors": ["fake"]}
    )
    info = client.info()
    assert (info.name, info.master, info.enabled_hypervisors) == ("c1", "n1", ["fake"])
    auth = fake.requests[0]["headers"]["Authorization"]
    assert base64.b64decode(auth.split()[1]).decode() == f"nefos:{SECRET}"


def test_nodes_parse_capacity_when_bulk(fake, client):
    node = {"name": "n1", "mtotal": 4096, "mfree": 1024, "dtotal": 100, "dfree": 50, "pinst_cnt": 2, "group.uuid": "g"}
    offline = {"name": "n2", "offline": True, "mtotal": None, "mfree": None}
    fake.add("GET", "/2/nodes", [node, offline])
    nodes = client.nodes(bulk=True)
    assert fake.requests[0]["query"] == {"bulk": ["1"]}
    assert (nodes[0].mtotal, nodes[0].mfree, nodes[0].pinst_cnt, nodes[0].group_uuid) == (4096, 1024, 2, "g")
    assert nodes[1].offline and nodes[1].mtotal is None


def test_create_instance_sends_version_1_body_when_spec_given(fake, client):
    fake.add("POST", "/2/instances", 42)
    spec = InstanceSpec(name="vm1", disk_template="file", os_type="noop", disks=[{"size": 1024}], pnode="n1")
    assert client.create_instance(spec) == 42
    body = fake.requests[0]["body"]
    assert body["__version__"] == 1 and body["mode"] == "create"
    assert body["disks"] == [{"size": 1024}] and body["nics"] == [{}] and body["pnode"] == "n1"
    assert "snode" not in body and "iallocator" not in body


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "body"),
    [
        (lambda c: c.startup("vm1"), "PUT", "/2/instances/vm1/startup", {}, None),
        (lambda c: c.shutdown("vm1", timeout=30), "PUT", "/2/instances/vm1/shutdown", {}, {"timeout": 30}),
        (lambda c: c.reboot("vm1", reboot_type="hard"), "POST", "/2/instances/vm1/reboot", {"type": ["hard"]}, {}),
        (
            lambda c: c.migrate("vm1", target_node="n2"),
            "PUT",
            "/2/instances/vm1/migrate",
            {},
            {"mode": "live", "target_node": "n2"},
        ),
        (lambda c: c.failover("vm1"), "PUT", "/2/instances/vm1/failover", {}, {"ignore_consistency": False}),
        (
            lambda c: c.modify("vm1", beparams={"memory": 256}),
            "PUT",
            "/2/instances/vm1/modify",
            {},
            {"beparams": {"memory": 256}},
        ),
        (lambda c: c.grow_disk("vm1", 0, 512), "POST", "/2/instances/vm1/disk/0/grow", {}, {"amount": 512}),
        (lambda c: c.remove_instance("vm1"), "DELETE", "/2/instances/vm1", {}, None),
        (
            lambda c: c.node_evacuate("n1", iallocator="hail"),
            "POST",
            "/2/nodes/n1/evacuate",
            {},
            {"mode": "all", "iallocator": "hail"},
        ),
        (lambda c: c.node_migrate("n1"), "POST", "/2/nodes/n1/migrate", {}, {"mode": "live"}),
        (
            lambda c: c.set_node_role("n1", "drained", force=True),
            "PUT",
            "/2/nodes/n1/role",
            {"force": ["1"]},
            "drained",
        ),
    ],
)
def test_write_calls_send_expected_request_when_called(fake, client, call, method, path, query, body):
    fake.add(method, path, "17")
    assert call(client) == 17
    sent = fake.requests[0]
    assert (sent["method"], sent["path"], sent["query"]) == (method, path, query)
    if body is not None:
        assert sent["body"] == body


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequest),
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (404, NotFound),
        (409, Conflict),
        (500, GanetiApiError),
    ],
)
def test_http_error_maps_to_typed_error_when_rapi_fails(fake, client, status, error):
    fake.add(
        "PUT",
        "/2/instances/vm1/startup",
        {"code": status, "message": "Instance 'vm1' is marked down", "explain": "why"},
        status,
    )
    with pytest.raises(error) as caught:
        client.startup("vm1")
    assert caught.value.status == status
    assert caught.value.message == "Instance 'vm1' is marked down"
    assert caught.value.explain == "why"


def test_get_retries_when_service_unavailable(fake, client):
    fake.add("GET", "/2/info", {"code": 503, "message": "busy"}, 503)
    fake.add("GET", "/2/info", {"code": 502, "message": "busy"}, 502)
    fake.add("GET", "/2/info", {"name": "c1"})
    assert client.info().name == "c1"
    assert len(fake.requests) == 3


def test_get_gives_up_when_retries_exhausted(fake, client):
    for _ in range(3):
        fake.add("GET", "/2/info", {"code": 503, "message": "busy"}, 503)
    with pytest.raises(ServiceUnavailable):
        client.info()
    assert len(fake.requests) == 3


def test_write_not_retried_when_service_unavailable(fake, client):
    fake.add("PUT", "/2/instances/vm1/startup", {"code": 503, "message": "busy"}, 503)
    fake.add("PUT", "/2/instances/vm1/startup", "5")
    with pytest.raises(ServiceUnavailable):
        client.startup("vm1")
    assert len(fake.requests) == 1


def test_bad_request_not_retried_when_get(fake, client):
    fake.add("GET", "/2/instances/vm1", {"code": 400, "message": "bad"}, 400)
    with pytest.raises(BadRequest):
        client.instance("vm1")
    assert len(fake.requests) == 1


def test_unreachable_cluster_raises_without_secret_when_port_closed(caplog):
    client = RapiClient(f"http://127.0.0.1:{_closed_port()}", username="u", password=SECRET, retries=2, retry_wait=0)
    with caplog.at_level(logging.DEBUG), pytest.raises(ClusterUnreachable) as caught:
        client.info()
    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text


def test_repr_redacts_password_when_printed(client):
    assert SECRET not in repr(client)
    assert "***" in repr(client)


def test_tls_verification_stays_on_when_env_names_other_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    client = RapiClient("https://127.0.0.1:1", username="u", password="p", ca_file=str(tmp_path / "ca.pem"))
    assert client.verify == str(tmp_path / "ca.pem")
    assert client.session.trust_env is False
    assert RapiClient("https://127.0.0.1:1", username="u", password="p").verify is True


def test_job_not_found_when_ganeti_returns_null_record(fake, client):
    fake.add("GET", "/2/jobs/9", {"id": 9, "status": None, "ops": None})
    with pytest.raises(NotFound):
        client.job(9)


def test_wait_for_job_change_sends_previous_state_when_polling(fake, client):
    fake.add("GET", "/2/jobs/7/wait", {"job_info": ["running"], "log_entries": [[3, [1, 2], "message", "disk 50%"]]})
    fake.add("GET", "/2/jobs/7/wait", None)
    change = client.wait_for_job_change(7, ["status"])
    assert change.job_info == ["running"] and change.last_log_serial == 3
    assert client.wait_for_job_change(7, ["status"], change.job_info, change.last_log_serial) is None
    assert fake.requests[1]["body"] == {
        "fields": ["status"],
        "previous_job_info": ["running"],
        "previous_log_serial": 3,
    }


def test_wait_for_job_raises_job_failed_with_reason_when_job_errors(fake, client):
    fake.add("GET", "/2/jobs/8/wait", {"job_info": ["error"], "log_entries": []})
    reason = ["OpPrereqError", ["Instance 'vm1' already exists", "wrong_input"]]
    fake.add("GET", "/2/jobs/8", {"id": 8, "status": "error", "opstatus": ["error"], "opresult": [reason]})
    with pytest.raises(JobFailed) as caught:
        client.wait_for_job(8)
    assert caught.value.status == "error"
    assert "already exists" in caught.value.message


def test_wait_for_job_returns_job_when_success(fake, client):
    fake.add("GET", "/2/jobs/5/wait", None)
    fake.add("GET", "/2/jobs/5/wait", {"job_info": ["success"], "log_entries": []})
    fake.add("GET", "/2/jobs/5", {"id": 5, "status": "success", "opresult": [["n1"]]})
    job = client.wait_for_job(5)
    assert job.finished and job.opresult == [["n1"]]


def test_cancel_job_returns_cluster_answer_when_cancelled(fake, client):
    fake.add("DELETE", "/2/jobs/4", [True, "Job 4 canceled"])
    assert client.cancel_job(4) == (True, "Job 4 canceled")


def test_reboot_rejects_unknown_type_when_called(client):
    with pytest.raises(ValueError):
        client.reboot("vm1", reboot_type="gentle")
