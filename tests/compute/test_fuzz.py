"""Hypothesis fuzz of the bodies and queries Nova takes: whatever comes in, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
SERVER_KEYS = st.sampled_from(
    ["name", "imageRef", "flavorRef", "networks", "key_name", "user_data", "metadata", "min_count", "max_count",
     "availability_zone", "block_device_mapping_v2", "security_groups", "config_drive", "description",
     "accessIPv4", "OS-DCF:diskConfig", "return_reservation_id"]
)  # fmt: skip
ACTIONS = st.sampled_from(
    ["os-start", "os-stop", "reboot", "resize", "confirmResize", "revertResize", "createImage", "lock", "unlock",
     "os-getVNCConsole", "bogus"]
)  # fmt: skip
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(fields=st.dictionaries(SERVER_KEYS, JSON, max_size=8))
def test_boot_never_500s_when_body_is_arbitrary(nova, image, flavors, cluster, queued_jobs, fields):
    body = {"name": "fz", "imageRef": image, "flavorRef": "1", "networks": "none", **fields}
    response = nova.post("/servers", {"server": body})
    assert response.status_code in (202, 400, 403, 404, 409), response.content


@FUZZ
@given(action=ACTIONS, args=JSON)
def test_actions_never_500_when_arguments_are_arbitrary(nova, booted, queued_jobs, action, args):
    response = nova.post(f"/servers/{booted['id']}/action", {action: args})
    assert response.status_code in (200, 202, 204, 400, 403, 404, 409), response.content


@FUZZ
@given(query=st.dictionaries(
    st.sampled_from(["name", "status", "limit", "marker", "sort_key", "sort_dir", "changes-since", "ip", "ip6",
                     "tags", "not-tags", "image", "flavor", "all_tenants", "deleted", "reservation_id"]),
    st.text(max_size=20), max_size=5,
))  # fmt: skip
def test_list_never_500s_when_query_is_arbitrary(nova, booted, query):
    response = nova.client.get("/compute/v2.1/servers/detail", query, HTTP_X_AUTH_TOKEN=nova.token)
    assert response.status_code in (200, 400, 403), response.content


@FUZZ
@given(body=JSON, path=st.sampled_from(["/os-keypairs", "/flavors", "/servers/x/metadata"]))
def test_other_writes_never_500_when_body_is_arbitrary(nova, admin_nova, body, path):
    for client in (nova, admin_nova):
        response = client.post(path, body)
        assert response.status_code < 500, response.content
