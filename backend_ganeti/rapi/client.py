"""A typed client for Ganeti's RAPI v2 over HTTPS (requests + tenacity).

One ``RapiClient`` per cluster holds a pooled ``requests.Session`` with HTTP basic credentials,
TLS verification on (against a CA bundle/cert file when the cluster uses its own certificate),
connect/read timeouts, and retries: idempotent GETs are retried on connection failures and
502/503/504; writes are never retried once they may have reached the cluster. Credentials never
appear in ``repr``, logs or error messages. Write methods return the Ganeti job id.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from backend_ganeti.rapi.errors import ClusterUnreachable, JobFailed, NotFound, ServiceUnavailable, error_for
from backend_ganeti.rapi.models import (
    ClusterInfo,
    Group,
    Instance,
    InstanceSpec,
    Job,
    JobChange,
    Network,
    Node,
)

log = logging.getLogger(__name__)

# Ganeti's server-side long-poll lasts up to ~10 s; the read timeout must outlast it.
WAIT_READ_TIMEOUT = 40.0
NODE_ROLES = ("master-candidate", "regular", "drained", "offline")


def _retryable_get_error(exc: BaseException) -> bool:
    """A GET may be repeated after these: nothing it did can have changed the cluster."""
    return isinstance(exc, ClusterUnreachable | ServiceUnavailable)


class RapiClient:
    """Talks to one cluster's RAPI; thread-safe for reads as far as requests.Session is."""

    def __init__(
        self,
        url: str,
        *,
        username: str,
        password: str,
        ca_file: str | None = None,
        cluster: str = "",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retries: int = 3,
        retry_wait: float = 0.5,
        pool_size: int = 10,
        session: requests.Session | None = None,
    ) -> None:
        """``url`` like ``https://cluster.example.org:5080``; ``ca_file`` verifies its certificate."""
        self.url = url.rstrip("/")
        self.cluster = cluster or self.url
        self.username = username
        self._password = password
        self.timeout = (connect_timeout, read_timeout)
        self.retries = max(1, retries)
        self.retry_wait = retry_wait
        self.session = session or requests.Session()
        self.session.auth = (username, password)
        # Never False: with no CA file the system trust store applies. Passed on every request too,
        # because requests lets REQUESTS_CA_BUNDLE override a session's verify setting.
        self.verify: str | bool = ca_file or True
        self.session.verify = self.verify
        # Endpoints come from the cluster record only: no proxies or .netrc from the environment.
        self.session.trust_env = False
        self.session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __repr__(self) -> str:
        """Identify the cluster without credentials."""
        return f"RapiClient(url={self.url!r}, username={self.username!r}, password='***')"

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()

    # -- transport ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, query: dict[str, Any] | None, body: Any, timeout: Any) -> Any:
        """One HTTP exchange; maps transport and HTTP failures to typed errors."""
        url = f"{self.url}{path}"
        started = time.monotonic()
        try:
            resp = self.session.request(
                method, url, params=query, json=body, timeout=timeout or self.timeout, verify=self.verify
            )
        except requests.exceptions.SSLError as exc:
            raise ClusterUnreachable(f"TLS verification failed for {self.url}: {exc}", cluster=self.cluster) from None
        except requests.exceptions.RequestException as exc:
            kind = type(exc).__name__
            raise ClusterUnreachable(f"cannot reach {self.url} ({kind})", cluster=self.cluster) from None
        log.debug("rapi %s %s -> %s in %.3f s", method, path, resp.status_code, time.monotonic() - started)
        if resp.status_code >= 400:
            message, explain = self._error_text(resp)
            raise error_for(resp.status_code, message, explain=explain, cluster=self.cluster)
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise error_for(resp.status_code, "RAPI answered with invalid JSON", cluster=self.cluster) from None

    @staticmethod
    def _error_text(resp: requests.Response) -> tuple[str, str]:
        """RAPI errors are ``{"code", "message", "explain"}``; fall back to the reason phrase."""
        try:
            data = resp.json()
        except ValueError:
            return resp.reason or f"HTTP {resp.status_code}", ""
        if isinstance(data, dict):
            return str(data.get("message") or resp.reason), str(data.get("explain") or "")
        return str(data), ""

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        timeout: Any = None,
    ) -> Any:
        """Send a request; GETs are retried on connection errors and 502/503/504."""
        if method != "GET":
            return self._send(method, path, query, body, timeout)
        retrying = Retrying(
            retry=retry_if_exception(_retryable_get_error),
            stop=stop_after_attempt(self.retries),
            wait=wait_exponential(multiplier=self.retry_wait, max=5),
            reraise=True,
        )
        return retrying(self._send, method, path, query, body, timeout)

    @staticmethod
    def _job_id(value: Any) -> int:
        """Write calls answer with the job id (a number, or a string on some versions)."""
        return int(value)

    # -- cluster -----------------------------------------------------------------------------

    def info(self) -> ClusterInfo:
        """``GET /2/info``."""
        return ClusterInfo.from_api(self.request("GET", "/2/info"))

    def features(self) -> list[str]:
        """``GET /2/features`` (e.g. ``instance-create-reqv1``)."""
        return list(self.request("GET", "/2/features") or [])

    def nodes(self, bulk: bool = True) -> list[Node] | list[str]:
        """``GET /2/nodes``: Node objects with ``bulk``, else node names."""
        data = self.request("GET", "/2/nodes", query={"bulk": 1} if bulk else None)
        return [Node.from_api(n) for n in data] if bulk else [n["id"] for n in data]

    def groups(self) -> list[Group]:
        """``GET /2/groups?bulk=1``."""
        return [Group.from_api(g) for g in self.request("GET", "/2/groups", query={"bulk": 1})]

    def networks(self) -> list[Network]:
        """``GET /2/networks?bulk=1``."""
        return [Network.from_api(n) for n in self.request("GET", "/2/networks", query={"bulk": 1})]

    # -- instances ---------------------------------------------------------------------------

    def instances(self, bulk: bool = True) -> list[Instance] | list[str]:
        """``GET /2/instances``: Instance objects with ``bulk``, else instance names."""
        data = self.request("GET", "/2/instances", query={"bulk": 1} if bulk else None)
        return [Instance.from_api(i) for i in data] if bulk else [i["id"] for i in data]

    def instance(self, name: str) -> Instance:
        """``GET /2/instances/NAME`` (NotFound when the cluster has no such instance)."""
        return Instance.from_api(self.request("GET", f"/2/instances/{quote(name)}"))

    def create_instance(self, spec: InstanceSpec, *, dry_run: bool = False) -> int:
        """``POST /2/instances`` with request format version 1; returns the job id."""
        query = {"dry-run": 1} if dry_run else None
        return self._job_id(self.request("POST", "/2/instances", query=query, body=spec.to_body()))

    def remove_instance(self, name: str) -> int:
        """``DELETE /2/instances/NAME``; returns the job id."""
        return self._job_id(self.request("DELETE", f"/2/instances/{quote(name)}"))

    def startup(self, name: str, *, no_remember: bool = False) -> int:
        """``PUT /2/instances/NAME/startup``."""
        query = {"no_remember": 1} if no_remember else None
        return self._job_id(self.request("PUT", f"/2/instances/{quote(name)}/startup", query=query))

    def shutdown(self, name: str, *, timeout: int | None = None, no_remember: bool = False) -> int:
        """``PUT /2/instances/NAME/shutdown``; ``timeout`` seconds before a hard stop."""
        body = {"timeout": timeout} if timeout is not None else {}
        query = {"no_remember": 1} if no_remember else None
        return self._job_id(self.request("PUT", f"/2/instances/{quote(name)}/shutdown", query=query, body=body))

    def reboot(self, name: str, *, reboot_type: str = "soft") -> int:
        """``POST /2/instances/NAME/reboot?type=soft|hard|full``."""
        if reboot_type not in ("soft", "hard", "full"):
            raise ValueError(f"unknown reboot type {reboot_type!r}")
        return self._job_id(
            self.request("POST", f"/2/instances/{quote(name)}/reboot", query={"type": reboot_type}, body={})
        )

    def migrate(self, name: str, *, mode: str = "live", target_node: str | None = None, cleanup: bool = False) -> int:
        """``PUT /2/instances/NAME/migrate`` (mode ``live`` or ``non-live``)."""
        body: dict[str, Any] = {"mode": mode}
        if target_node:
            body["target_node"] = target_node
        if cleanup:
            body["cleanup"] = True
        return self._job_id(self.request("PUT", f"/2/instances/{quote(name)}/migrate", body=body))

    def failover(self, name: str, *, target_node: str | None = None, ignore_consistency: bool = False) -> int:
        """``PUT /2/instances/NAME/failover``."""
        body: dict[str, Any] = {"ignore_consistency": ignore_consistency}
        if target_node:
            body["target_node"] = target_node
        return self._job_id(self.request("PUT", f"/2/instances/{quote(name)}/failover", body=body))

    def modify(self, name: str, **params: Any) -> int:
        """``PUT /2/instances/NAME/modify`` with OpInstanceSetParams fields (beparams, disks, nics...)."""
        return self._job_id(self.request("PUT", f"/2/instances/{quote(name)}/modify", body=params))

    def grow_disk(self, name: str, disk: int, amount: int, *, wait_for_sync: bool | None = None) -> int:
        """``POST /2/instances/NAME/disk/N/grow`` by ``amount`` MiB."""
        body: dict[str, Any] = {"amount": amount}
        if wait_for_sync is not None:
            body["wait_for_sync"] = wait_for_sync
        return self._job_id(self.request("POST", f"/2/instances/{quote(name)}/disk/{int(disk)}/grow", body=body))

    def console(self, name: str) -> dict[str, Any]:
        """``GET /2/instances/NAME/console``: kind, host, port... (503 when the instance is down)."""
        return dict(self.request("GET", f"/2/instances/{quote(name)}/console"))

    # -- nodes -------------------------------------------------------------------------------

    def node_evacuate(
        self, node: str, *, mode: str = "all", iallocator: str | None = None, remote_node: str | None = None
    ) -> int:
        """``POST /2/nodes/NODE/evacuate`` (mode ``primary-only``, ``secondary-only`` or ``all``)."""
        body: dict[str, Any] = {"mode": mode}
        if iallocator:
            body["iallocator"] = iallocator
        if remote_node:
            body["remote_node"] = remote_node
        return self._job_id(self.request("POST", f"/2/nodes/{quote(node)}/evacuate", body=body))

    def node_migrate(self, node: str, *, mode: str = "live", target_node: str | None = None) -> int:
        """``POST /2/nodes/NODE/migrate``: migrate all primary instances away."""
        body: dict[str, Any] = {"mode": mode}
        if target_node:
            body["target_node"] = target_node
        return self._job_id(self.request("POST", f"/2/nodes/{quote(node)}/migrate", body=body))

    def node_role(self, node: str) -> str:
        """``GET /2/nodes/NODE/role``."""
        return str(self.request("GET", f"/2/nodes/{quote(node)}/role"))

    def set_node_role(self, node: str, role: str, *, force: bool = False) -> int:
        """``PUT /2/nodes/NODE/role`` with the role as a JSON string body."""
        if role not in NODE_ROLES:
            raise ValueError(f"unknown node role {role!r}")
        query = {"force": 1} if force else None
        return self._job_id(self.request("PUT", f"/2/nodes/{quote(node)}/role", query=query, body=role))

    # -- jobs --------------------------------------------------------------------------------

    def job(self, job_id: int) -> Job:
        """``GET /2/jobs/N``; NotFound for an unknown (or archived) job.

        Ganeti 3.0 answers 200 with every field null for a job it does not know.
        """
        data = self.request("GET", f"/2/jobs/{int(job_id)}")
        if not isinstance(data, dict) or data.get("status") is None:
            raise NotFound(404, f"job {int(job_id)} not found", cluster=self.cluster)
        return Job.from_api(data)

    def cancel_job(self, job_id: int) -> tuple[bool, str]:
        """``DELETE /2/jobs/N``: cancel a job that has not started; (cancelled?, cluster's message)."""
        result = self.request("DELETE", f"/2/jobs/{int(job_id)}")
        if isinstance(result, list) and len(result) == 2:
            return bool(result[0]), str(result[1])
        return bool(result), ""

    def wait_for_job_change(
        self,
        job_id: int,
        fields: list[str],
        prev_job_info: list[Any] | None = None,
        prev_log_serial: int | None = None,
    ) -> JobChange | None:
        """Long-poll ``GET /2/jobs/N/wait``; None when nothing changed within Ganeti's wait."""
        body = {"fields": fields, "previous_job_info": prev_job_info, "previous_log_serial": prev_log_serial}
        timeout = (self.timeout[0], max(self.timeout[1], WAIT_READ_TIMEOUT))
        data = self.request("GET", f"/2/jobs/{int(job_id)}/wait", body=body, timeout=timeout)
        if data is None:
            return None
        return JobChange(job_info=list(data["job_info"]), log_entries=list(data.get("log_entries") or []))

    def wait_for_job(self, job_id: int, *, timeout: float = 600.0, raise_on_failure: bool = True) -> Job:
        """Follow a job with the long-poll until it finishes; JobFailed on error/canceled."""
        deadline = time.monotonic() + timeout
        fields = ["status"]
        prev_info: list[Any] | None = None
        prev_serial: int | None = None
        while True:
            change = self.wait_for_job_change(job_id, fields, prev_info, prev_serial)
            if change is not None:
                prev_info = change.job_info
                prev_serial = change.last_log_serial if change.last_log_serial is not None else prev_serial
                if change.job_info and change.job_info[0] in ("success", "error", "canceled"):
                    break
            if time.monotonic() > deadline:
                raise JobFailed(job_id, "timeout", f"not finished after {timeout:.0f} s", cluster=self.cluster)
        job = self.job(job_id)
        if raise_on_failure and job.status != "success":
            raise JobFailed(job_id, job.status, job.error_message() or job.status, cluster=self.cluster)
        return job
