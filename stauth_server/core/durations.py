"""Durations written the way people write them in config: "7d", "12h", "30m", "45s"."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*([0-9]{1,15})\s*([smhdw])\s*$", re.IGNORECASE)
#: A century: longer is a typo, and overflows cookie expiry dates and Redis TTLs.
MAX_SECONDS = 100 * 366 * 86400


def parse_duration(value: object, key: str) -> int:
    """Seconds in ``value`` ("7d", "12h", "90m", "45s", "2w" or a whole number of seconds).

    Raises ValueError naming ``key`` and the accepted forms.
    """
    if isinstance(value, bool):
        raise ValueError(f"{key}: expected a duration like \"7d\", \"12h\" or \"30m\", got {value!r}")
    seconds = 0
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            seconds = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if 0 < seconds <= MAX_SECONDS:
        return seconds
    if seconds > MAX_SECONDS:
        raise ValueError(f"{key}: at most 100 years, got {value!r}")
    raise ValueError(f"{key}: expected a duration like \"7d\", \"12h\" or \"30m\", got {value!r}")
