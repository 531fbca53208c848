"""Swift API limits: enforced by the API (400 when exceeded) and advertised by `/info`."""

from __future__ import annotations

from portal.errors import ValidationFailed

MAX_FILE_SIZE = 5 * 1024**3 + 2
MAX_META_NAME_LENGTH = 128
MAX_META_VALUE_LENGTH = 256
MAX_META_COUNT = 90
MAX_META_OVERALL_SIZE = 4096
MAX_HEADER_SIZE = 8192
MAX_OBJECT_NAME_LENGTH = 1024
CONTAINER_LISTING_LIMIT = 10000
ACCOUNT_LISTING_LIMIT = 10000
MAX_CONTAINER_NAME_LENGTH = 256
MAX_ACCOUNT_NAME_LENGTH = 256

SWIFT_LIMITS: dict[str, int] = {
    "max_file_size": MAX_FILE_SIZE,
    "max_meta_name_length": MAX_META_NAME_LENGTH,
    "max_meta_value_length": MAX_META_VALUE_LENGTH,
    "max_meta_count": MAX_META_COUNT,
    "max_meta_overall_size": MAX_META_OVERALL_SIZE,
    "max_header_size": MAX_HEADER_SIZE,
    "max_object_name_length": MAX_OBJECT_NAME_LENGTH,
    "container_listing_limit": CONTAINER_LISTING_LIMIT,
    "account_listing_limit": ACCOUNT_LISTING_LIMIT,
    "max_container_name_length": MAX_CONTAINER_NAME_LENGTH,
    "max_account_name_length": MAX_ACCOUNT_NAME_LENGTH,
}


def check_metadata(metadata: dict[str, str], kind: str, *, wire: bool = False) -> None:
    """Swift's metadata limits: name and value length, count, overall size (400 when exceeded).

    Sizes are counted in bytes: with `wire`, values are WSGI header strings (one latin-1
    character a byte, whatever the client's encoding); otherwise they are text, counted in UTF-8.
    """
    if len(metadata) > MAX_META_COUNT:
        raise ValidationFailed(f"Too many metadata items; max {MAX_META_COUNT}")
    overall = 0
    for name, value in metadata.items():
        if not name:
            raise ValidationFailed("Metadata name cannot be empty")
        if len(name) > MAX_META_NAME_LENGTH:
            raise ValidationFailed(f"Metadata name too long: X-{kind}-Meta-{name}")
        size = len(value.encode("latin-1" if wire else "utf-8"))
        if size > MAX_META_VALUE_LENGTH:
            raise ValidationFailed(f"Metadata value longer than {MAX_META_VALUE_LENGTH}: X-{kind}-Meta-{name}")
        overall += len(name) + size
    if overall > MAX_META_OVERALL_SIZE:
        raise ValidationFailed(f"Total metadata too large; max {MAX_META_OVERALL_SIZE}")
