"""Asset ids: URL-safe, collision-resistant random ids (nanoid-style, 21 chars, 126 bits)."""

import re
import secrets

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
ID_LENGTH = 21
_ID_RE = re.compile(r"^[0-9A-Za-z_-]{21}$")


def new_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def is_valid_id(value: str) -> bool:
    """True for a well-formed id: the guard against path traversal in keys built from ids."""
    return bool(_ID_RE.match(value))
