"""Masking of personal data for display: phone numbers and names are never shown whole."""

from __future__ import annotations


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
