"""Cross-project isolation of every Nova endpoint: an outsider gets 403/404 and never sees data."""

from __future__ import annotations

import pytest

from compute.image.services.images import create_image
from identity.tokens import service_context
from tests.isolation import Probe, assert_isolated

pytestmark = pytest.mark.django_db

V = "/compute/v2.1"
HEADERS = {"OpenStack-API-Version": "compute 2.47"}
PROXY_HEADERS = {"OpenStack-API-Version": "compute 2.35"}


@pytest.fixture
def victim(nova, admin_nova, booted):
    """A server (with metadata and a tag), a key pair and a private flavor shared with the project."""
    sid = booted["id"]
    nova.put(f"/servers/{sid}", {"server": {"name": "victim-server-7f3a"}})
    nova.post(f"/servers/{sid}/metadata", {"metadata": {"secret-key": "secret-value"}})
    nova.put(f"/servers/{sid}/tags/secret-tag")
    keypair = nova.post("/os-keypairs", {"keypair": {"name": "victim-key"}}).json()["keypair"]
    body = {"flavor": {"name": "victim-flavor", "id": "vf1", "ram": 64, "vcpus": 1, "disk": 1,
                       "os-flavor-access:is_public": False}}  # fmt: skip
    admin_nova.post("/flavors", body)
    admin_nova.post("/flavors/vf1/action", {"addTenantAccess": {"tenant": nova.project.pk}})
    address = booted["addresses"]["private"][0]["addr"]
    group = nova.post("/os-server-groups", {"server_group": {"name": "victim-group-91c2", "policies": ["affinity"]}})
    ctx = service_context(nova.project, name="test", roles=("member", "reader"), ttl=60)
    image = create_image(ctx, {"name": "victim-image-5d1e", "visibility": "private"}, actor=None)
    return {
        "server": sid,
        "fingerprint": keypair["fingerprint"],
        "project": nova.project.pk,
        "address": address,
        "group": group.json()["server_group"]["id"],
        "image": str(image.pk),
    }


def probes(victim) -> list[Probe]:
    sid, project = victim["server"], victim["project"]
    server = f"{V}/servers/{sid}"
    urls = [
        ("GET", server, None),
        ("PUT", server, {"server": {"name": "x"}}),
        ("DELETE", server, None),
        ("GET", f"{server}/metadata", None),
        ("POST", f"{server}/metadata", {"metadata": {"a": "b"}}),
        ("PUT", f"{server}/metadata", {"metadata": {"a": "b"}}),
        ("GET", f"{server}/metadata/secret-key", None),
        ("PUT", f"{server}/metadata/secret-key", {"meta": {"secret-key": "x"}}),
        ("DELETE", f"{server}/metadata/secret-key", None),
        ("GET", f"{server}/tags", None),
        ("PUT", f"{server}/tags", {"tags": ["x"]}),
        ("DELETE", f"{server}/tags", None),
        ("GET", f"{server}/tags/secret-tag", None),
        ("PUT", f"{server}/tags/new", None),
        ("DELETE", f"{server}/tags/secret-tag", None),
        ("GET", f"{server}/ips", None),
        ("GET", f"{server}/ips/private", None),
        ("POST", f"{server}/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc"}}),
        ("GET", f"{V}/os-keypairs/victim-key", None),
        ("DELETE", f"{V}/os-keypairs/victim-key", None),
        ("GET", f"{V}/os-quota-sets/{project}", None),
        ("GET", f"{V}/os-quota-sets/{project}/detail", None),
        ("GET", f"{V}/os-quota-sets/{project}/defaults", None),
        ("PUT", f"{V}/os-quota-sets/{project}", {"quota_set": {"instances": 1}}),
        ("DELETE", f"{V}/os-quota-sets/{project}", None),
        ("GET", f"{V}/limits?tenant_id={project}", None),
        ("GET", f"{V}/flavors/vf1", None),
        ("DELETE", f"{V}/flavors/vf1", None),
        ("GET", f"{V}/flavors/vf1/os-extra_specs", None),
        ("POST", f"{V}/flavors/vf1/os-extra_specs", {"extra_specs": {"a": "b"}}),
        ("GET", f"{V}/flavors/vf1/os-flavor-access", None),
        ("POST", f"{V}/flavors/vf1/action", {"addTenantAccess": {"tenant": project}}),
        ("GET", f"{V}/os-server-groups/{victim['group']}", None),
        ("DELETE", f"{V}/os-server-groups/{victim['group']}", None),
        ("GET", f"{server}/os-instance-actions", None),
        ("GET", f"{server}/os-instance-actions/req-0", None),
    ]
    actions = [
        {"os-start": None},
        {"os-stop": None},
        {"reboot": {"type": "HARD"}},
        {"resize": {"flavorRef": "2"}},
        {"confirmResize": None},
        {"revertResize": None},
        {"createImage": {"name": "x"}},
        {"createBackup": {"name": "x", "backup_type": "daily", "rotation": 1}},
        {"lock": None},
        {"unlock": None},
        {"addSecurityGroup": {"name": "default"}},
        {"removeSecurityGroup": {"name": "default"}},
    ]
    urls += [("POST", f"{server}/action", body) for body in actions]
    image = f"{V}/images/{victim['image']}"
    proxy = [  # Nova's image proxy is served up to 2.35 only
        ("GET", image, None),
        ("DELETE", image, None),
        ("GET", f"{image}/metadata", None),
        ("POST", f"{image}/metadata", {"metadata": {"a": "b"}}),
        ("PUT", f"{image}/metadata/a", {"meta": {"a": "b"}}),
    ]
    return [Probe(method, url, body, HEADERS) for method, url, body in urls] + [
        Probe(method, url, body, PROXY_HEADERS) for method, url, body in proxy
    ]


def forbidden(victim) -> list[str]:
    return [
        victim["server"],
        "victim-server-7f3a",
        "secret-value",
        "secret-tag",
        victim["fingerprint"],
        victim["address"],
        victim["group"],
        "victim-group-91c2",
        victim["image"],
        "victim-image-5d1e",
    ]


def test_outsider_gets_403_or_404_and_no_data_on_every_endpoint(victim, other_nova):
    assert_isolated(other_nova.client, other_nova.token, probes(victim), forbidden(victim))


def test_outsider_listings_never_show_the_victims_objects(victim, other_nova):
    for path in ("/servers", "/servers/detail", "/os-keypairs", "/flavors/detail", "/limits",
                 "/servers?name=victim", f"/servers/detail?ip={victim['address']}"):  # fmt: skip
        response = other_nova.get(path)
        assert response.status_code == 200, (path, response.content)
        text = response.content.decode()
        for value in [*forbidden(victim), "victim-flavor", "victim-key"]:
            assert value not in text, (path, value)
    for path in ("/os-server-groups", "/images/detail", "/images"):
        response = other_nova.get(path, version="2.35")
        assert response.status_code == 200, (path, response.content)
        for value in forbidden(victim):
            assert value not in response.content.decode(), (path, value)


def test_victim_still_sees_everything_afterwards(victim, nova):
    server = nova.show(victim["server"])
    assert server["name"] == "victim-server-7f3a" and server["metadata"] == {"secret-key": "secret-value"}
    assert nova.get("/flavors/vf1").status_code == 200
    assert nova.get(f"/images/{victim['image']}", version="2.35").json()["image"]["name"] == "victim-image-5d1e"
    assert nova.get(f"/os-server-groups/{victim['group']}").json()["server_group"]["name"] == "victim-group-91c2"
    assert nova.get(f"/servers/{victim['server']}/os-instance-actions").status_code == 200
