"""Generated avatars: the user's initials on a colour derived from their id."""

from __future__ import annotations

import base64
import hashlib
from html import escape

#: Colours with enough contrast for white initials.
_PALETTE = ("#e8590c", "#d6336c", "#ae3ec9", "#7048e8", "#4263eb", "#1c7ed6", "#0c8599", "#099268",
            "#2f9e44", "#66a80f", "#f08c00", "#c92a2a")


def initials(name: str | None) -> str:
    """Up to two initials of a name or email ("Ada Lovelace" -> "AL", "bob@x.org" -> "B")."""
    text = (name or "").split("@", 1)[0].replace(".", " ").replace("_", " ").strip()
    words = [w for w in text.split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def avatar_svg(user_id: str, name: str | None, size: int = 64) -> str:
    colour = _PALETTE[int(hashlib.sha256(user_id.encode()).hexdigest(), 16) % len(_PALETTE)]
    text = escape(initials(name))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="32" fill="{colour}"/>'
        f'<text x="32" y="32" dy=".35em" text-anchor="middle" fill="#fff" '
        f'font-family="system-ui,sans-serif" font-size="26" font-weight="600">{text}</text></svg>'
    )


def avatar_data_url(user_id: str, name: str | None) -> str:
    """The generated avatar as a ``data:`` URL, usable as an ``<img src>`` or ``st.image``."""
    return "data:image/svg+xml;base64," + base64.b64encode(avatar_svg(user_id, name).encode()).decode()
