"""Checks of request values as Nova's JSON schemas make them, with Nova's 400 messages.

Each check takes the field name and the raw JSON value and returns the converted value or raises
ValidationFailed ("Invalid input for field/attribute <field>. Value: <value>. <reason>").
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import uuid
from typing import Any

from portal.errors import ValidationFailed

MAX_INT = 0x7FFFFFFF
METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
TRUE = {"true", "1", "on", "yes"}
FALSE = {"false", "0", "off", "no"}


def invalid(field: str, value: Any, reason: str) -> ValidationFailed:
    """Nova's schema-violation error."""
    shown = str(value)
    if len(shown) > 100:
        shown = shown[:100] + "..."
    return ValidationFailed(f"Invalid input for field/attribute {field}. Value: {shown}. {reason}")


def _printable(text: str) -> bool:
    return all(ch.isprintable() or ch == " " for ch in text)


def name(field: str, value: Any, *, max_length: int = 255) -> str:
    """A name: 1..max_length printable characters, not starting or ending with whitespace."""
    if not isinstance(value, str):
        raise invalid(field, value, f"{value!r} is not of type 'string'")
    if not 1 <= len(value) <= max_length:
        raise invalid(field, value, f"Length must be between 1 and {max_length}")
    if not _printable(value) or value != value.strip():
        raise invalid(field, value, "printable characters. Can not start or end with whitespace.")
    return value


def description(field: str, value: Any) -> str | None:
    """A description: null or up to 255 printable characters."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 255 or not _printable(value):
        raise invalid(field, value, "It must be null or a string of at most 255 printable characters")
    return value


def integer(field: str, value: Any, *, minimum: int = 1, maximum: int = MAX_INT) -> int:
    """An integer (or a string of digits) between minimum and maximum."""
    if isinstance(value, bool):
        raise invalid(field, value, f"{value!r} is not of type 'integer', 'string'")
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise invalid(field, value, f"{value!r} is not of type 'integer', 'string'")
    if not minimum <= value <= maximum:
        raise invalid(field, value, f"Value must be between {minimum} and {maximum}")
    return value


def number(field: str, value: Any, *, minimum: float, maximum: float) -> float:
    """A number between minimum (exclusive when > 0) and maximum."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(field, value, "It must be a number")
    try:
        result = float(value)
    except ValueError:
        raise invalid(field, value, "It must be a number") from None
    if not minimum < result <= maximum:
        raise invalid(field, value, f"Value must be greater than {minimum} and at most {maximum}")
    return result


def boolean(field: str, value: Any) -> bool:
    """Nova's booleans: true/false or one of its strings (True, yes, on, 1...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in TRUE | FALSE:
        return value.lower() in TRUE
    raise invalid(field, value, f"{value!r} is not a valid boolean")


def metadata(field: str, value: Any) -> dict[str, str]:
    """Metadata: an object of 1..255-character keys (letters, digits, - _ : . space) to strings <= 255."""
    if not isinstance(value, dict):
        raise invalid(field, value, f"{value!r} is not of type 'object'")
    for key, item in value.items():
        if not METADATA_KEY.match(key):
            raise invalid(field, value, f"{key!r} does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{{1,255}}$'")
        if not isinstance(item, str):
            raise invalid(field, value, f"{item!r} is not of type 'string'")
        if len(item) > 255:
            raise invalid(field, value, f"{item!r} is too long")
    return dict(value)


def ip(field: str, value: Any, *, version: int) -> str:
    """An IPv4 or IPv6 address, in its canonical form (RFC 5952 for IPv6, as Nova stores it)."""
    try:
        address = ipaddress.ip_address(value) if isinstance(value, str) else None
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise invalid(field, value, f"{value!r} is not a 'ipv{version}'")
    return str(address)


def uuid_string(field: str, value: Any) -> str:
    """A UUID, as the string it came in."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        raise invalid(field, value, f"{value!r} is not a 'uuid'") from None
    if not isinstance(value, str):
        raise invalid(field, value, f"{value!r} is not of type 'string'")
    return value


def base64_text(field: str, value: Any, *, max_length: int) -> str:
    """Base64 text of at most `max_length` characters (Nova's user_data rule)."""
    if not isinstance(value, str):
        raise invalid(field, value, f"{value!r} is not of type 'string'")
    if len(value) > max_length:
        raise invalid(field, value[:20], f"It is too long (at most {max_length} characters)")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("User data needs to be valid base 64.") from None
    return value


def string_list(field: str, value: Any) -> list[Any]:
    """A JSON list."""
    if not isinstance(value, list):
        raise invalid(field, value, f"{value!r} is not of type 'array'")
    return value
