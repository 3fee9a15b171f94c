"""Validating a cookie write and turning it into a ``Set-Cookie`` header (RFC 6265)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from email.utils import format_datetime

from ..core.errors import CookieError

#: RFC 6265 ``token`` characters (a cookie name).
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: RFC 6265 ``cookie-octet`` characters (a cookie value).
_VALUE_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - set('",;\\')
MAX_COOKIE_BYTES = 4096
#: Browsers cap a cookie's lifetime at 400 days (RFC 6265bis).
MAX_AGE_LIMIT = 400 * 86400
SAMESITE_VALUES = {"lax": "Lax", "strict": "Strict", "none": "None"}

#: Prefixes (lower-case) of cookie names that streamlit-auth and Streamlit keep for themselves.
RESERVED_PREFIXES = ("_streamlit", "_stauth", "__host-stauth", "__secure-stauth", "stauth_")
RESERVED_NAMES = ("_xsrf",)


@dataclass(frozen=True)
class CookieWrite:
    """A validated cookie write; ``value is None`` means delete."""

    name: str
    value: str | None
    path: str
    max_age: int | None = None
    expires: dt.datetime | None = None
    secure: bool = False
    httponly: bool = True
    samesite: str = "Lax"

    def header_value(self) -> str:
        """The ``Set-Cookie`` header value."""
        if self.value is None:
            parts = [f"{self.name}=", "Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
        else:
            parts = [f"{self.name}={self.value}"]
            if self.max_age is not None:
                parts.append(f"Max-Age={self.max_age}")
            if self.expires is not None:
                parts.append("Expires=" + format_datetime(self.expires, usegmt=True))
        parts.append(f"Path={self.path}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        parts.append(f"SameSite={self.samesite}")
        return "; ".join(parts)


def check_name(name: object) -> str:
    """Refuse names that are not RFC 6265 tokens, or that Streamlit or we reserve."""
    if not isinstance(name, str) or not name:
        raise CookieError(f"cookie name must be a non-empty string, got {name!r}")
    bad = sorted({c for c in name if c not in _TOKEN_CHARS})
    if bad:
        raise CookieError(f"cookie name {name!r} has characters not allowed in a token (RFC 6265): {bad!r}")
    lowered = name.lower()
    if lowered in RESERVED_NAMES or lowered.startswith(RESERVED_PREFIXES):
        raise CookieError(f"cookie name {name!r} is reserved by Streamlit or streamlit-auth")
    return name


def check_value(name: str, value: object) -> str:
    """Refuse values with characters a browser would cut or misread (CR, LF, ';', ...)."""
    if not isinstance(value, str):
        raise CookieError(f"cookie {name!r}: value must be a str, got {type(value).__name__}")
    bad = sorted({c for c in value if c not in _VALUE_CHARS})
    if bad:
        raise CookieError(
            f"cookie {name!r}: value has characters not allowed in a cookie value (RFC 6265): "
            f"{bad!r}; percent-encode it first (urllib.parse.quote)"
        )
    return value


def check_path(path: object) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise CookieError(f"cookie path must start with '/', got {path!r}")
    if any(ord(c) < 0x21 or ord(c) > 0x7E or c == ";" for c in path):
        raise CookieError(f"cookie path {path!r} has a control character, a space or ';'")
    return path


def build_write(
    name: str,
    value: str | None,
    *,
    default_path: str,
    page_is_https: bool,
    max_age: int | float | dt.timedelta | None = None,
    expires: dt.datetime | int | float | None = None,
    path: str | None = None,
    secure: bool | None = None,
    httponly: bool = True,
    samesite: str | None = "Lax",
) -> CookieWrite:
    """Validate one write; raise ``CookieError`` with a clear message on bad input."""
    check_name(name)
    if value is not None:
        check_value(name, value)
    path = check_path(default_path if path is None else path)
    secure_flag = page_is_https if secure is None else bool(secure)
    samesite_value = SAMESITE_VALUES.get(str(samesite).lower()) if samesite is not None else None
    if samesite_value is None:
        raise CookieError(f"cookie {name!r}: samesite must be 'Lax', 'Strict' or 'None', got {samesite!r}")
    if samesite_value == "None" and not secure_flag:
        raise CookieError(f"cookie {name!r}: SameSite=None needs secure=True (browsers drop it otherwise)")
    lowered = name.lower()
    if lowered.startswith(("__secure-", "__host-")) and not secure_flag:
        raise CookieError(f"cookie {name!r}: the __Secure-/__Host- prefix needs a secure (https) cookie")
    if lowered.startswith("__host-") and path != "/":
        raise CookieError(f"cookie {name!r}: the __Host- prefix needs path='/'")
    age = _seconds(name, max_age)
    when = _expiry(name, expires)
    if value is not None and len(name.encode()) + len(value.encode()) > MAX_COOKIE_BYTES - 1:
        raise CookieError(f"cookie {name!r} is over {MAX_COOKIE_BYTES} bytes; browsers would drop it")
    return CookieWrite(name, value, path, age, when, secure_flag, bool(httponly), samesite_value)


def _seconds(name: str, max_age: int | float | dt.timedelta | None) -> int | None:
    if max_age is None:
        return None
    seconds = max_age.total_seconds() if isinstance(max_age, dt.timedelta) else max_age
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise CookieError(f"cookie {name!r}: max_age must be seconds (int) or a timedelta, got {max_age!r}")
    if abs(seconds) > MAX_AGE_LIMIT:
        raise CookieError(f"cookie {name!r}: max_age over {MAX_AGE_LIMIT} seconds (400 days, browsers cap it)")
    return int(seconds)


def _expiry(name: str, expires: dt.datetime | int | float | None) -> dt.datetime | None:
    if expires is None:
        return None
    if isinstance(expires, dt.datetime):
        aware = expires if expires.tzinfo else expires.replace(tzinfo=dt.timezone.utc)
        return aware.astimezone(dt.timezone.utc)
    if isinstance(expires, bool) or not isinstance(expires, (int, float)) or not math.isfinite(expires):
        raise CookieError(f"cookie {name!r}: expires must be a datetime or a Unix time, got {expires!r}")
    try:
        return dt.datetime.fromtimestamp(expires, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise CookieError(f"cookie {name!r}: expires {expires!r} is out of range") from None
