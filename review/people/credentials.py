"""Officers' credentials: personal tokens for the CLI, one-time codes (TOTP) for forms.

- A personal token is 32 random bytes, shown once; only ``HMAC-SHA256(salt, token)``
  is stored. A fast keyed hash is enough because the token is random and long:
  guessing it is 2^256 work whatever the hash costs, and the CLI answers fast.
- The TOTP secret (RFC 6238, ``pyotp``) is stored encrypted (Fernet) with the
  installation key: ``HEFA_SECRET_KEY`` or ``$HEFA_HOME/secret.key`` (0600).
  A code is accepted once: the last accepted time-step is kept, replays refused.
- After ``lockout_failures`` consecutive failures within ``lockout_minutes``, the
  officer is locked for ``lockout_minutes`` (or until an admin unlocks).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hefa.review.config import settings
from hefa.review.errors import ConfigurationError, CredentialFailure, CredentialsRefused
from hefa.review.people.identity import Credentials
from hefa.review.records.models import Officer

FAILED = "身份验证失败：姓名、令牌或动态码不正确 / authentication failed"


def new_token() -> str:
    """A new personal access token (个人令牌)."""
    return "hefa_" + secrets.token_urlsafe(32)


def hash_token(token: str, salt: str) -> str:
    return hmac.new(bytes.fromhex(salt), token.encode("utf-8"), hashlib.sha256).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def token_matches(officer: Officer, token: str) -> bool:
    return hmac.compare_digest(hash_token(token, officer.token_salt), officer.token_hash)


# --- the installation key and TOTP secrets -------------------------------------------------

def _key_path() -> Path:
    return settings().home / "secret.key"


def installation_key(*, create: bool = False) -> bytes:
    """The Fernet key that encrypts TOTP secrets. Created (0600) by ``hefa init``."""
    env = os.environ.get("HEFA_SECRET_KEY")
    if env:
        return env.encode("ascii")
    path = _key_path()
    if path.exists():
        return path.read_bytes().strip()
    if not create:
        raise ConfigurationError(
            f"缺少密钥文件 {path}：请先运行 hefa init / missing installation key: run hefa init"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.urlsafe_b64encode(secrets.token_bytes(32))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def _fernet(create: bool = False):  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    return Fernet(installation_key(create=create))


def new_totp_secret() -> tuple[str, str]:
    """A new TOTP secret: (plain base32 secret to show once, encrypted form to store)."""
    import pyotp

    plain = pyotp.random_base32()
    return plain, _fernet(create=True).encrypt(plain.encode("ascii")).decode("ascii")


def totp_secret(officer: Officer) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(officer.totp_secret_enc.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise ConfigurationError(
            "无法解密动态码密钥：安装密钥与数据库不匹配 / TOTP secret cannot be decrypted "
            "with this installation key"
        ) from exc


def provisioning_uri(name: str, secret: str) -> str:
    """The otpauth:// URI an authenticator app enrols from (shown as a QR code)."""
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="hefa 合法性审查")


def _matching_counter(officer: Officer, code: str) -> int | None:
    """The TOTP time-step the code belongs to (current ±1 window), or None."""
    import pyotp

    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(totp_secret(officer))
    now_counter = int(dt.datetime.now(dt.UTC).timestamp()) // totp.interval
    for counter in (now_counter, now_counter - 1, now_counter + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


# --- authentication ----------------------------------------------------------------------

@dataclass
class Authenticated:
    """An officer whose credentials were accepted, and the TOTP step they used."""

    officer: Officer
    totp_counter: int | None = None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def check_credentials(officer: Officer | None, creds: Credentials) -> Authenticated:
    """Accept or refuse one presentation of credentials (token or one-time code).

    Raises ``CredentialsRefused`` (its ``why`` says which failure it was); the caller
    records the failure (``note_failure``) in the refusal's own transaction, so it
    survives the step's rollback.
    """
    name = creds.name
    if officer is None:
        raise CredentialsRefused(FAILED, why=CredentialFailure.FAILED, officer_name=name)
    real_now = dt.datetime.now(dt.UTC)
    locked_until = _aware(officer.locked_until)
    if locked_until and locked_until > real_now:
        raise CredentialsRefused(
            f"账户已锁定至 {locked_until.astimezone().strftime('%H:%M')}（连续验证失败）"
            f"，请稍后再试或联系管理员解锁 / account locked", why=CredentialFailure.LOCKED, officer_name=name)
    if officer.disabled:
        raise CredentialsRefused("账户已停用 / officer is disabled", why=CredentialFailure.DISABLED,
                                 officer_name=name)
    if creds.session:  # the front door: a signed-in browser (登录会话)
        from hefa.review.people.web_sessions import check_session

        check_session(officer, creds.session)
        return Authenticated(officer)
    if creds.password is not None:  # web sign-in: the password and a fresh one-time code, both
        from hefa.review.people.passwords import password_matches

        if not creds.code or not password_matches(officer.password_hash, creds.password):
            raise CredentialsRefused(FAILED, why=CredentialFailure.FAILED, officer_name=name)
    if creds.token:
        if token_matches(officer, creds.token):
            return Authenticated(officer)
        raise CredentialsRefused(FAILED, why=CredentialFailure.FAILED, officer_name=name)
    if creds.code:
        counter = _matching_counter(officer, creds.code.strip())
        if counter is None:
            raise CredentialsRefused(FAILED, why=CredentialFailure.FAILED, officer_name=name)
        if counter <= officer.totp_last_counter:
            raise CredentialsRefused("动态码已使用过，请等待新的动态码 / this code was already used",
                                     why=CredentialFailure.REPLAYED, officer_name=name)
        return Authenticated(officer, totp_counter=counter)
    raise CredentialsRefused(
        "缺少令牌：请设置 HEFA_TOKEN、运行 hefa login 或按提示输入 / no token given",
        why=CredentialFailure.MISSING, officer_name=name)


def note_success(auth: Authenticated) -> None:
    """Reset the failure count and burn the TOTP step used."""
    officer = auth.officer
    officer.failed_count = 0
    officer.first_failed_at = None
    if auth.totp_counter is not None:
        officer.totp_last_counter = max(officer.totp_last_counter, auth.totp_counter)


def note_failure(officer: Officer) -> bool:
    """Count one failed presentation; lock the officer at the threshold.

    Returns True when this failure locked the account.
    """
    cfg = settings()
    real_now = dt.datetime.now(dt.UTC)
    window = dt.timedelta(minutes=cfg.lockout_minutes)
    first = _aware(officer.first_failed_at)
    if first is None or real_now - first > window:
        officer.failed_count = 0
        officer.first_failed_at = real_now
    officer.failed_count += 1
    if officer.failed_count >= cfg.lockout_failures:
        officer.locked_until = real_now + window
        officer.failed_count = 0
        officer.first_failed_at = None
        return True
    return False
