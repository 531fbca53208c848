"""The OpenStack fault shapes of portal.api.openstack (what each service's clients parse)."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotAuthenticated, ParseError

from portal.api.openstack import FaultStyle, fault_body, handler_for
from portal.errors import Conflict, NotFound, QuotaExceeded


def test_fault_body_names_the_nova_kind_when_style_is_nova():
    assert fault_body(FaultStyle.NOVA, 404, "Flavor 9 could not be found.") == {
        "itemNotFound": {"code": 404, "message": "Flavor 9 could not be found."}
    }
    assert list(fault_body(FaultStyle.NOVA, 500, "boom")) == ["computeFault"]


def test_fault_body_is_a_neutron_error_when_style_is_neutron():
    body = fault_body(FaultStyle.NEUTRON, 409, "IP in use", kind="IpAddressInUse")
    assert body == {"NeutronError": {"type": "IpAddressInUse", "message": "IP in use", "detail": ""}}
    assert fault_body(FaultStyle.NEUTRON, 404, "x")["NeutronError"]["type"] == "HTTPNotFound"


@pytest.mark.parametrize(
    ("exc", "status", "key"),
    [
        (NotFound("no such server"), 404, "itemNotFound"),
        (Conflict("busy"), 409, "conflictingRequest"),
        (QuotaExceeded("over"), 413, "overLimit"),
        (ParseError("bad json"), 400, "badRequest"),
        (NotAuthenticated(), 401, "unauthorized"),
    ],
)
def test_handler_renders_status_and_nova_key_when_error_is_known(exc, status, key):
    response = handler_for(FaultStyle.NOVA)(exc, {})
    assert response.status_code == status
    assert list(response.data) == [key]
    assert response.data[key]["code"] == status


def test_handler_uses_neutron_type_from_detail_when_given():
    response = handler_for(FaultStyle.NEUTRON)(Conflict("in use", neutron_type="IpAddressInUse"), {})
    assert response.data["NeutronError"]["type"] == "IpAddressInUse"


def test_handler_leaves_unknown_errors_to_django_when_not_a_domain_error():
    assert handler_for(FaultStyle.GLANCE)(RuntimeError("bug"), {}) is None
