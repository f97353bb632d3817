"""Masking of personal data for display: phone numbers and names are never shown whole."""

from __future__ import annotations

import re

_FLAT = re.compile(
    r"(?:[\s,，]*(?:\d+|[一二三四五六七八九十]+)单元)?(?:[\s,，]*\d+层)?[\s,，-]*[A-Za-z]?\d+[A-Za-z]?(?:室|号房|户)$"
    r"|[\s,，]*(?:\d+|[一二三四五六七八九十]+)单元$"
    r"|[\s,，]*(?:apt\.?|apartment|unit|flat|room|#)\s*[\w-]+$",
    re.IGNORECASE,
)


def mask_phone(phone: str | None) -> str:
    """138****5678: keep the first three and last four digits of a mobile number, hide the rest."""
    if not phone:
        return ""
    digits = str(phone).strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else max(0, len(digits) - 8)
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


def mask_name(name: str | None) -> str:
    """王** / 张*: keep the family name only."""
    if not name:
        return ""
    name = str(name).strip()
    return name[0] + "*" * max(1, len(name) - 1)


def building_address(address: str | None) -> str | None:
    """The address down to its building: a trailing flat, room, household or unit (…室, …号房, …户,
    …单元…室, Apt/Unit/#…) is dropped, as anonymous Open311 readers see it."""
    if not address:
        return address
    previous, text = None, str(address).strip()
    while previous != text:  # "2单元502室" drops in two steps
        previous, text = text, _FLAT.sub("", text).rstrip(" ,，-")
    return text
