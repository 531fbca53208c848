"""Reading a `POST /servers` body into a `ServerRequest`, with Nova's checks for the microversion.

Refused with a clear 400 (not implemented yet): booting from a volume or snapshot and extra blank
disks in `block_device_mapping_v2`, the legacy `block_device_mapping`, and `personality` files.
Accepted and ignored: `adminPass`, scheduler hints other than `group` (a server group to join),
device `tag`s.
"""

from __future__ import annotations

from typing import Any

from compute.api import validation as check
from compute.api.microversions import Version
from compute.services.server_data import METADATA_LIMIT
from compute.services.servers import ServerRequest
from portal.errors import Forbidden, ValidationFailed

USER_DATA_MAX = 65535
MAX_COUNT = 1000
BASE_KEYS = {
    "name", "imageRef", "flavorRef", "adminPass", "metadata", "networks", "accessIPv4", "accessIPv6",
    "OS-DCF:diskConfig", "personality", "availability_zone", "block_device_mapping", "block_device_mapping_v2",
    "config_drive", "key_name", "min_count", "max_count", "return_reservation_id", "security_groups", "user_data",
}  # fmt: skip
TOP_LEVEL = {"server", "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"}
NETWORK_KEYS = {"uuid", "port", "fixed_ip"}
BDM_KEYS = {
    "source_type", "destination_type", "uuid", "boot_index", "volume_size", "delete_on_termination", "device_name",
    "guest_format", "disk_bus", "device_type", "no_device", "tag",
}  # fmt: skip
NOT_YET_VOLUMES = "Booting from a volume or snapshot is not supported yet (block_device_mapping_v2 with volumes)."
NOT_YET_BLANK = "Extra blank disks in block_device_mapping_v2 are not supported yet; use a flavor's ephemeral disk."


def _ref(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise check.invalid(field, value, f"{value!r} is not of type 'string'")
    if len(value) > 2048:
        raise check.invalid(field, value, "It is too long")
    return value


def _networks(value: Any, version: Version) -> list[dict[str, Any]] | str:
    """Nova's `networks`: required from 2.37 ("auto", "none" or a list), else an optional list."""
    if value is None:
        if version.at_least("networks_required"):
            raise check.invalid("networks", None, "'networks' is a required property")
        return "auto"
    if isinstance(value, str):
        if version.at_least("networks_required") and value in ("auto", "none"):
            return value
        raise check.invalid("networks", value, f"{value!r} is not of type 'array'")
    requests = check.string_list("networks", value)
    if not requests:
        return "none" if version.at_least("networks_required") else "auto"
    allowed = NETWORK_KEYS | ({"tag"} if version.at_least("network_tags") else set())
    parsed = []
    for item in requests:
        if not isinstance(item, dict):
            raise check.invalid("networks", item, f"{item!r} is not of type 'object'")
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
        entry: dict[str, Any] = {}
        if "uuid" in item:
            if not isinstance(item["uuid"], str):
                raise ValidationFailed(f"Bad networks format: network uuid is not in proper format ({item['uuid']})")
            entry["uuid"] = check.uuid_string("uuid", item["uuid"])
        if "port" in item and item["port"] is not None:
            entry["port"] = check.uuid_string("port", item["port"])
        if item.get("fixed_ip") is not None:
            address = item["fixed_ip"]
            try:
                entry["fixed_ip"] = check.ip("fixed_ip", address, version=6 if ":" in str(address) else 4)
            except ValidationFailed:
                raise ValidationFailed(f"Invalid fixed IP address ({address})") from None
        if ("uuid" in entry) == ("port" in entry):
            raise ValidationFailed("Bad network format: each network needs exactly one of 'uuid' or 'port'.")
        parsed.append(entry)
    return parsed


def _boot_image(bdms: Any, image_ref: str, version: Version) -> str:
    """The image a block_device_mapping_v2 boots from (only a local image at boot index 0 is served)."""
    mappings = check.string_list("block_device_mapping_v2", bdms)
    allowed = BDM_KEYS | ({"volume_type"} if version >= Version(2, 67) else set())
    boot = image_ref
    for bdm in mappings:
        if not isinstance(bdm, dict):
            raise check.invalid("block_device_mapping_v2", bdm, f"{bdm!r} is not of type 'object'")
        unknown = sorted(set(bdm) - allowed)
        if unknown:
            raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
        source, destination = bdm.get("source_type"), bdm.get("destination_type", "local")
        if source in ("volume", "snapshot") or destination == "volume":
            raise ValidationFailed(NOT_YET_VOLUMES)
        if source == "blank" or source is None:
            raise ValidationFailed(NOT_YET_BLANK)
        if source != "image" or str(bdm.get("boot_index")) != "0":
            raise ValidationFailed("Only the boot image (source_type image, boot_index 0) is supported.")
        uuid = check.uuid_string("uuid", bdm.get("uuid"))
        if boot and boot.rstrip("/").rsplit("/", 1)[-1] != uuid:
            raise ValidationFailed("Mismatching imageRef and block device mapping image.")
        boot = uuid
    return boot


def _group_hint(body: dict[str, Any]) -> str | None:
    """The server group named by `os:scheduler_hints` (`{"group": "<uuid>"}`), if any."""
    hints = body.get("os:scheduler_hints", body.get("OS-SCH-HNT:scheduler_hints"))
    if hints is None:
        return None
    if not isinstance(hints, dict):
        raise check.invalid("os:scheduler_hints", hints, f"{hints!r} is not of type 'object'")
    group = hints.get("group")
    return None if group is None else check.uuid_string("group", group)


def parse_create(body: dict[str, Any], version: Version) -> tuple[ServerRequest, bool]:
    """The boot request and whether the caller asked for the reservation id instead of the server."""
    unknown = sorted(set(body) - TOP_LEVEL)
    if unknown or "server" not in body:
        raise ValidationFailed(
            "Invalid input for field/attribute server. 'server' is a required property"
            if "server" not in body
            else f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)"
        )
    data = body["server"]
    if not isinstance(data, dict):
        raise check.invalid("server", data, f"{data!r} is not of type 'object'")
    allowed = BASE_KEYS | ({"description"} if version.at_least("description") else set())
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(f"Additional properties are not allowed ({', '.join(unknown)} was unexpected)")
    for required in ("name", "flavorRef"):
        if required not in data:
            raise check.invalid(required, None, f"'{required}' is a required property")
    if data.get("personality"):
        raise ValidationFailed("Personality (file injection) is not supported; use user_data.")
    if data.get("block_device_mapping"):
        raise ValidationFailed("The legacy block_device_mapping is not supported; use block_device_mapping_v2.")
    image_ref = _ref("imageRef", data.get("imageRef", "") or "")
    if data.get("block_device_mapping_v2") is not None:
        image_ref = _boot_image(data["block_device_mapping_v2"], image_ref, version)
    metadata = check.metadata("metadata", data.get("metadata", {}))
    if len(metadata) > METADATA_LIMIT:
        raise Forbidden(
            f"Quota exceeded for metadata_items: Requested {len(metadata)}, but already used 0 of "
            f"{METADATA_LIMIT} metadata_items"
        )
    min_count = check.integer("min_count", data.get("min_count", 1), maximum=MAX_COUNT)
    max_count = check.integer("max_count", data.get("max_count", min_count), maximum=MAX_COUNT)
    if min_count > max_count:
        raise ValidationFailed("min_count must be <= max_count")
    networks = _networks(data.get("networks"), version)
    if max_count > 1 and isinstance(networks, list) and any("port" in n for n in networks):
        raise ValidationFailed(
            "Unable to launch multiple instances with a single configured port ID. "
            "Please launch your instance one by one with different ports."
        )
    key_name = data.get("key_name")
    if key_name is not None:
        key_name = check.name("key_name", key_name)
    zone = data.get("availability_zone")
    if zone is not None:
        zone = check.name("availability_zone", zone).split(":", 1)[0]
    groups = check.string_list("security_groups", data.get("security_groups", []))
    names = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("name"), str) or not group["name"]:
            raise check.invalid("security_groups", group, "Each security group is an object with a 'name'")
        names.append(group["name"][:255])
    disk_config = data.get("OS-DCF:diskConfig", "MANUAL")
    if disk_config not in ("AUTO", "MANUAL"):
        raise check.invalid("OS-DCF:diskConfig", disk_config, "It must be AUTO or MANUAL")
    user_data = data.get("user_data")
    request = ServerRequest(
        name=check.name("name", data["name"]),
        flavor_ref=_ref("flavorRef", data["flavorRef"]),
        image_ref=image_ref,
        networks=networks,
        key_name=key_name,
        user_data=None if user_data is None else check.base64_text("user_data", user_data, max_length=USER_DATA_MAX),
        metadata=metadata,
        availability_zone=zone,
        min_count=min_count,
        max_count=max_count,
        description=check.description("description", data.get("description")),
        security_groups=tuple(dict.fromkeys(names)),
        config_drive=bool(data.get("config_drive")) and check.boolean("config_drive", data["config_drive"]),
        disk_config=disk_config,
        access_ipv4=check.ip("accessIPv4", data["accessIPv4"], version=4) if data.get("accessIPv4") else "",
        access_ipv6=check.ip("accessIPv6", data["accessIPv6"], version=6) if data.get("accessIPv6") else "",
        group=_group_hint(body),
    )
    wants_reservation = check.boolean("return_reservation_id", data.get("return_reservation_id", False))
    return request, wants_reservation
