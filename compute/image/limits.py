"""Formats the image service accepts and the limits it enforces (Glance's defaults)."""

from __future__ import annotations

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")

MAX_PROPERTIES = 128  # Glance's image_property_quota
MAX_TAGS = 128  # image_tag_quota
MAX_MEMBERS = 128  # image_member_quota
MAX_INT = 2**31 - 1  # min_disk / min_ram are 32-bit in Glance's database
MAX_PROPERTY_VALUE = 65535
LIST_DEFAULT_LIMIT = 25  # limit_param_default
LIST_MAX_LIMIT = 1000  # api_limit_max

# Where an image's bytes live in its owner's object store: container `images`, object = image id.
DATA_CONTAINER = "images"
HASH_ALGO = "sha512"

# Attribute names a client may never set or change, and names reserved for the service itself.
READ_ONLY = frozenset(
    {
        "created_at",
        "updated_at",
        "status",
        "checksum",
        "size",
        "virtual_size",
        "direct_url",
        "self",
        "file",
        "schema",
        "id",
        "os_hash_algo",
        "os_hash_value",
        "stores",
    }
)
RESERVED = frozenset({"location", "locations", "deleted", "deleted_at"})
RESERVED_PREFIX = "os_glance"
