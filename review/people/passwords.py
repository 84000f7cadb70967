"""Officers' passwords for the front door (登录密码), stored with scrypt (memory-hard).

The stored form is ``scrypt$n$r$p$salt_hex$hash_hex``: the cost travels with the hash, so
it can be raised later without locking anyone out. A password alone never signs anyone in:
the front door also asks for a fresh 6-digit authenticator code (two factors).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from hefa.review.errors import InvalidInput

SCRYPT_N = 2**14  # 16 MiB with r=8: memory-hard, ~50 ms here
SCRYPT_R = 8
SCRYPT_P = 1
MIN_LENGTH = 10
MAX_LENGTH = 200


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def check_new_password(password: str, name: str) -> str:
    """A password an officer may choose: long enough, not their name, no control characters."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"密码至少 {MIN_LENGTH} 个字符 / the password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"密码不超过 {MAX_LENGTH} 个字符 / at most {MAX_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise InvalidInput("密码不能含控制字符 / no control characters")
    if name.lower() in password.lower():
        raise InvalidInput("密码不能包含姓名 / the password must not contain the name")
    return password


def hash_password(password: str) -> str:
    """The stored form of a password (scrypt, random 16-byte salt)."""
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(stored: str, password: str) -> bool:
    """Whether ``password`` is the one stored (constant-time compare); False when none is set."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt" or len(password) > MAX_LENGTH:
        return False
    return hmac.compare_digest(_derive(password, bytes.fromhex(salt), int(n), int(r), int(p)).hex(), digest)
