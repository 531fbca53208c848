"""Nova microversions: which one a request asks for, and the shape changes this API honours.

Clients ask with `OpenStack-API-Version: compute 2.X` (or the older `X-OpenStack-Nova-API-Version:
2.X`); no header means 2.1, `latest` means MAX. Anything outside MIN..MAX is a 406, a malformed
value a 400. Every response echoes the version in both headers, with `Vary` naming them.

MAX is 2.47: every response and request change from 2.2 to 2.47 that touches the resources
served here is in CHANGES (docs/compute.md lists them). 2.48 and later are not advertised.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from portal.errors import DomainError, ValidationFailed


class Version(NamedTuple):
    """A microversion as (major, minor), ordered."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, change: str) -> bool:
        """Whether the shape change `change` (a CHANGES key) applies to this version."""
        return self >= CHANGES[change]


MIN = Version(2, 1)
MAX = Version(2, 47)
HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
VARY = f"{HEADER}, {LEGACY_HEADER}"
_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")

# Every microversion change (<= MAX) this API honours, by the name the code tests.
CHANGES: dict[str, Version] = {
    "keypair_type": Version(2, 2),  # keypairs have `type`; create 201, delete 204
    "extended_attributes": Version(2, 3),  # more OS-EXT-SRV-ATTR fields (admin)
    "remote_consoles": Version(2, 6),  # POST /servers/{id}/remote-consoles; os-getVNCConsole gone
    "flavor_access_public_conflict": Version(2, 7),  # access to a public flavor: 409 (always here)
    "locked": Version(2, 9),  # servers show `locked`
    "keypair_user_id": Version(2, 10),  # admins manage other users' key pairs (user_id)
    "server_group_owner": Version(2, 13),  # server groups show project_id and user_id
    "soft_affinity": Version(2, 15),  # soft-affinity and soft-anti-affinity server groups
    "host_status": Version(2, 16),  # servers show `host_status` (admin)
    "description": Version(2, 19),  # servers have a description
    "deleted_server_actions": Version(2, 21),  # instance actions of deleted servers
    "tags": Version(2, 26),  # server tags
    "network_tags": Version(2, 32),  # `tag` in networks / block_device_mapping_v2 (accepted)
    "keypair_paging": Version(2, 35),  # keypairs limit/marker
    "no_network_quotas": Version(2, 36),  # limits and quota sets lose network fields; proxies gone
    "networks_required": Version(2, 37),  # networks: required, "auto" / "none" / list
    "strict_status_filter": Version(2, 38),  # an unknown status filter is a 400
    "no_image_limits": Version(2, 39),  # limits lose maxImageMeta
    "create_image_body": Version(2, 45),  # createImage answers {"image_id"}
    "flavor_details": Version(2, 47),  # servers embed the flavor's sizes instead of a link
}


class NotAcceptable(DomainError):
    """A microversion outside what this API serves (Nova's 406)."""

    status = 406
    title = "Not Acceptable"


def parse(value: str | None, legacy: str | None = None) -> Version:
    """The version a request asks for, from its headers' values (None when absent)."""
    raw: str | None = None
    if value is not None:
        for part in value.split(","):
            service, _, version = part.strip().partition(" ")
            if service.lower() == "compute":
                raw = version.strip()
                break
    if raw is None:
        raw = legacy.strip() if legacy is not None else None
    if raw is None or raw == "":
        return MIN
    if raw.lower() == "latest":
        return MAX
    match = _FORMAT.match(raw)
    if match is None:
        raise ValidationFailed(f"API Version String {raw} is of invalid format. Must be of format MajorNum.MinorNum.")
    version = Version(int(match.group(1)), int(match.group(2)))
    if not MIN <= version <= MAX:
        raise NotAcceptable(f"Version {raw} is not supported by the API. Minimum is {MIN} and maximum is {MAX}.")
    return version
