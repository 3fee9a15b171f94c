"""Durations written the way people write them in config: "7d", "12h", "30m", "45s"."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(value: object, key: str) -> int:
    """Seconds in ``value`` ("7d", "12h", "90m", "45s", "2w" or a whole number of seconds).

    Raises ValueError naming ``key`` and the accepted forms.
    """
    if isinstance(value, bool):
        raise ValueError(f"{key}: expected a duration like \"7d\", \"12h\" or \"30m\", got {value!r}")
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match and int(match.group(1)) > 0:
            return int(match.group(1)) * _UNITS[match.group(2).lower()]
    raise ValueError(f"{key}: expected a duration like \"7d\", \"12h\" or \"30m\", got {value!r}")
