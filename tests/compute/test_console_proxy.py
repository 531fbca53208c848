"""The console proxy (compute/console_proxy.py) and the console page, on loopback only.

A fake RFB server (tests/compute/console_fakes.py) stands for the VNC console the fake cluster
reports; the proxy runs in a thread; a websockets client plays the browser. The proxy checks
tokens in its own threads, so the tests that use the real check run on a transactional database.
The `libvirtd` test relays a real QEMU guest's VNC server (a private libvirtd, the embedded
host agent) instead of the fake.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.staticfiles import finders
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from backend_ganeti.drivers.types import ConsoleInfo, JobState
from backend_ganeti.rapi.errors import NotFound as ClusterNotFound
from compute.console_proxy import ConsoleProxy, Target
from compute.services import consoles
from tests.backend_ganeti.libvirt_agent import AgentProcess, finish, running_agent, spec
from tests.backend_ganeti.libvirtd_fixture import private_libvirtd, skip_reason
from tests.compute.console_fakes import BANNER, FakeRfbServer, ProxyThread, wait_for

BASE_DIR = Path(__file__).resolve().parents[2]
CONSOLE = {"remote_console": {"protocol": "vnc", "type": "novnc"}}


@pytest.fixture
def rfb() -> Iterator[FakeRfbServer]:
    """A fake VNC console on a free loopback port."""
    server = FakeRfbServer()
    yield server
    server.close()


@pytest.fixture
def proxy() -> Iterator[ProxyThread]:
    """The console proxy with the real token check, on a free loopback port."""
    running = ProxyThread(ConsoleProxy(connect_timeout=2.0))
    yield running
    running.stop()


@pytest.fixture
def console_at_rfb(cloud, cluster, rfb, monkeypatch) -> None:
    """The fake cluster reports the fake RFB server as every instance's console."""
    monkeypatch.setattr(cloud.cluster(cluster.name), "console", lambda name: ConsoleInfo("vnc", "127.0.0.1", rfb.port))


def console_token(nova, server_id: str) -> str:
    """A console token from `remote-consoles`, as a browser would get it."""
    response = nova.post(f"/servers/{server_id}/remote-consoles", CONSOLE)
    assert response.status_code == 200, response.content
    return parse_qs(urlsplit(response.json()["remote_console"]["url"]).query)["token"][0]


def open_console(proxy: ProxyThread, token: str) -> ClientConnection:
    """A websocket to the proxy, as noVNC opens it."""
    return connect(f"{proxy.url}/?token={token}", open_timeout=5, close_timeout=2)


class Stream:
    """The console's byte stream out of the proxy's binary frames (TCP reads split and merge)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.buffer = b""

    def take(self, size: int) -> bytes:
        """Exactly the next `size` bytes."""
        while len(self.buffer) < size:
            frame = self.ws.recv(timeout=5)
            assert isinstance(frame, bytes), "the proxy sends binary frames only"
            self.buffer += frame
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def recv_exact(ws: ClientConnection, size: int) -> bytes:
    """Exactly `size` bytes, when the RFB step sends exactly that much (the fake server)."""
    stream = Stream(ws)
    data = stream.take(size)
    assert not stream.buffer, "more bytes than the RFB step sends"
    return data


def rfb_handshake(ws: ClientConnection, rfb: FakeRfbServer) -> bytes:
    """Play the client's side of RFB 3.8 through the proxy; returns ServerInit."""
    assert recv_exact(ws, 12) == BANNER
    ws.send(BANNER)
    assert recv_exact(ws, 2) == b"\x01\x01"
    ws.send(b"\x01")
    assert recv_exact(ws, 4) == b"\x00\x00\x00\x00"
    ws.send(b"\x01")
    return recv_exact(ws, len(rfb.init))


def refused_status(proxy: ProxyThread, token: str) -> int:
    """The HTTP status of a handshake the proxy must refuse."""
    with pytest.raises(InvalidStatus) as refused:
        open_console(proxy, token)
    return refused.value.response.status_code


# --- the relay, with the real token check ----------------------------------------------------


def test_proxy_relays_rfb_both_ways_when_token_names_running_server(
    transactional_db, nova, booted, console_at_rfb, rfb, proxy, caplog
):
    caplog.set_level("DEBUG")
    token = console_token(nova, booted["id"])
    with open_console(proxy, token) as ws:
        assert rfb_handshake(ws, rfb) == rfb.init
        update_request = b"\x03\x00\x00\x00\x00\x00\x00\x40\x00\x30"
        ws.send(update_request)
        assert wait_for(lambda: bytes(rfb.received).endswith(update_request))
    assert rfb.client_versions == [BANNER]
    assert rfb.closed_by_client.wait(5), "closing the websocket closes the console's TCP connection"
    assert wait_for(lambda: proxy.proxy.active == 0)
    proxy_lines = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("compute."))
    assert token not in proxy_lines  # (the test's own client logs its request line)
    assert f"console of server {booted['id']} closed (24 bytes to it, 49 from it)" in proxy_lines


def test_proxy_closes_websocket_normally_when_console_hangs_up(
    transactional_db, nova, booted, console_at_rfb, rfb, proxy
):
    with open_console(proxy, console_token(nova, booted["id"])) as ws:
        assert recv_exact(ws, 12) == BANNER
        rfb.hang_up()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    assert wait_for(lambda: proxy.proxy.active == 0)


def test_proxy_refuses_403_without_connecting_when_token_forged_missing_or_expired(
    transactional_db, nova, booted, console_at_rfb, rfb, proxy, monkeypatch
):
    token = console_token(nova, booted["id"])
    assert refused_status(proxy, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == 403
    assert refused_status(proxy, "") == 403
    monkeypatch.setattr(consoles, "CONSOLE_TTL", -1)
    assert refused_status(proxy, token) == 403
    assert rfb.accepted == 0
    assert proxy.proxy.active == 0


def test_proxy_refuses_403_when_server_deleted(transactional_db, nova, booted, console_at_rfb, rfb, proxy):
    token = console_token(nova, booted["id"])
    assert nova.delete(f"/servers/{booted['id']}").status_code == 204
    assert refused_status(proxy, token) == 403
    assert rfb.accepted == 0


def test_proxy_refuses_409_when_server_stopped(transactional_db, nova, booted, console_at_rfb, rfb, proxy):
    token = console_token(nova, booted["id"])
    assert nova.action(booted["id"], "os-stop").status_code == 202
    assert refused_status(proxy, token) == 409
    assert rfb.accepted == 0


# --- the relay alone (a stub check, no database) ---------------------------------------------


def stub_proxy(port: int, **kw: Any) -> ProxyThread:
    """A proxy whose check accepts the token `good` for a console on `port`."""

    def resolve(token: str) -> Target:
        return Target("127.0.0.1", port, "server stub")

    return ProxyThread(ConsoleProxy(resolve, connect_timeout=2.0, **kw))


def test_proxy_refuses_503_when_connection_limit_reached(rfb):
    running = stub_proxy(rfb.port, max_connections=1)
    try:
        with open_console(running, "good") as first:
            assert recv_exact(first, 12) == BANNER
            assert refused_status(running, "good") == 503
        assert wait_for(lambda: running.proxy.active == 0)
        with open_console(running, "good") as again:
            assert recv_exact(again, 12) == BANNER
        assert rfb.accepted == 2
    finally:
        running.stop()


def test_proxy_closes_1013_when_console_unreachable():
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = stub_proxy(port)
    try:
        with open_console(running, "good") as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    finally:
        running.stop()


def test_proxy_closes_1003_when_browser_sends_text(rfb):
    running = stub_proxy(rfb.port)
    try:
        with open_console(running, "good") as ws:
            assert recv_exact(ws, 12) == BANNER
            ws.send("RFB 003.008\n")
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
        assert rfb.closed_by_client.wait(5)
    finally:
        running.stop()


def test_proxy_closes_consoles_1001_when_stopped(rfb):
    running = stub_proxy(rfb.port)
    with open_console(running, "good") as ws:
        assert recv_exact(ws, 12) == BANNER
        running.stop()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert rfb.closed_by_client.wait(5)


# --- the page ---------------------------------------------------------------------------------


def test_console_page_points_novnc_at_proxy_when_token_valid(nova, booted, client, settings):
    settings.PORTAL_CONSOLE_URL = ""
    settings.PORTAL_CONSOLE_PORT = 7001
    token = console_token(nova, booted["id"])
    page = client.get(f"/compute/console?token={token}")
    assert page.status_code == 200 and b"VNC console" in page.content
    assert page.context["proxy_url"] == f"ws://testserver:7001/?{urlencode({'token': token})}"
    assert page["Cache-Control"] == "no-store"
    assert b"vendor/%40novnc/novnc/core/rfb.js" in page.content and b"nefos/console.js" in page.content
    settings.PORTAL_CONSOLE_URL = "wss://console.example.org/vnc/"
    page = client.get(f"/compute/console?token={token}", secure=True)
    assert page.context["proxy_url"] == f"wss://console.example.org/vnc/?{urlencode({'token': token})}"


def test_console_page_is_404_when_token_forged(client, db):
    assert client.get("/compute/console?token=forged").status_code == 404


def test_novnc_and_console_script_are_static_files():
    assert finders.find("vendor/@novnc/novnc/core/rfb.js"), "npm @novnc/novnc is not installed (make assets)"
    assert finders.find("nefos/console.js")


# --- the management command -------------------------------------------------------------------


def test_console_proxy_command_refuses_forged_token_and_stops_on_sigterm(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "portal.settings"}
    command = [sys.executable, str(BASE_DIR / "manage.py"), "console_proxy", "--bind", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        assert wait_for(listening, timeout=30), "the proxy did not start listening"
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{port}/?token=forged", open_timeout=5)
        assert refused.value.response.status_code == 403
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "forged" not in output and "console proxy listening on ws://127.0.0.1:" in output


# --- a real QEMU guest (private libvirtd) -----------------------------------------------------


@pytest.fixture(scope="module")
def qemu_agent() -> Iterator[AgentProcess]:
    """The embedded host agent on a private libvirtd (TCG guests); skips when that cannot run here."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with private_libvirtd() as daemon:
        args = ("--uri", daemon.uri, "--domain-type", "qemu", "--shutdown-timeout", "2", "--node-disk-mb", "4096")
        with running_agent(*args, build_delay=0, op_delay=0) as agent:
            yield agent


@pytest.mark.libvirtd
def test_proxy_relays_qemu_vnc_console_when_guest_runs_on_private_libvirtd(
    transactional_db, nova, booted, cloud, cluster, qemu_agent, proxy, monkeypatch
):
    driver = qemu_agent.driver()
    name = "console-guest"
    try:
        created = finish(driver, driver.create(spec(name, memory_mb=64, disk_mb=64, nics=())), timeout=60)
        assert created.state is JobState.SUCCESS, created.error
        info = driver.console(name)
        assert info.host == "127.0.0.1" and info.port >= 5900 and not info.extra.get("simulated")
        # The portal's server stands on the fake cluster, whose console is the real guest's.
        monkeypatch.setattr(cloud.cluster(cluster.name), "console", lambda _name: driver.console(name))
        with open_console(proxy, console_token(nova, booted["id"])) as ws:
            stream = Stream(ws)
            assert stream.take(12) == BANNER  # QEMU's VNC server, through the proxy
            ws.send(BANNER)
            assert 1 in stream.take(stream.take(1)[0])  # security type None is offered (no VNC password)
            ws.send(b"\x01")
            assert stream.take(4) == b"\x00\x00\x00\x00"
            ws.send(b"\x01")
            width, height = struct.unpack(">HH", stream.take(4))
            stream.take(16)  # pixel format
            (length,) = struct.unpack(">I", stream.take(4))
            assert width > 0 and height > 0
            assert stream.take(length) == f"QEMU ({name})".encode()
    finally:
        with contextlib.suppress(ClusterNotFound):
            driver.instance(name)
            finish(driver, driver.destroy(name), timeout=30)
