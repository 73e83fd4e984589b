"""The signed ``state`` that travels through Google's consent page when a host connects a calendar.

A state reads ``member_id.expires_at.fingerprint.mac``: the team member, when it stops working
(Unix seconds), a fingerprint of the member's calendar connection when the link was made, and an
HMAC-SHA256 of the rest under a key derived from SECRET_KEY for this purpose only. This module
makes and checks that format; it does not know what the fingerprint is of, nor the member: the
connect flow (``calendar_connect.py``) computes the one and looks up the other, and refuses a
state whose fingerprint no longer matches (``ConnectLinkUsed``), which makes a link work once.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.services.errors import DomainError, InvalidInput

STATE_LIFETIME = timedelta(minutes=15)
MAX_STATE_LENGTH = 200  # ours are about 80 characters; anything much longer is not ours

# Fixed, public values: the key differs from every other key derived from SECRET_KEY.
_STATE_SALT = b"interview-desk/google-oauth-state/v1"
_STATE_INFO = b"interview-desk/google-oauth-state"


class ConnectLinkInvalid(InvalidInput):
    """A ``state`` we did not sign, or for a member who is gone."""

    def __init__(self, message: str = "This connection link is not valid.") -> None:
        super().__init__(f"{message} Type `/interviews connect` in Slack for a new one.")


class ConnectLinkExpired(DomainError):
    """The consent link is older than 15 minutes."""

    def __init__(self) -> None:
        super().__init__(
            "This connection link has expired: links work for 15 minutes. "
            "Type `/interviews connect` in Slack for a new one."
        )


@dataclass(frozen=True)
class ConsentState:
    """What a signed ``state`` says: whose calendar, until when, and the connection it replaces."""

    member_id: int
    expires_at: int  # Unix seconds
    fingerprint: str


class StateSigner:
    """Signs and checks the ``state`` parameter that travels through Google's consent page."""

    def __init__(self, secret_key: bytes) -> None:
        if not secret_key:
            raise ValueError("the secret key is empty")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_STATE_SALT, info=_STATE_INFO)
        self._key = hkdf.derive(secret_key)

    def sign(self, member_id: int, expires_at: datetime, fingerprint: str) -> str:
        body = f"{member_id}.{int(expires_at.timestamp())}.{fingerprint}"
        return f"{body}.{self._mac(body)}"

    def verify(self, state: str, now: datetime) -> ConsentState:
        """The state's content; ``ConnectLinkInvalid`` if it is not ours, ``ConnectLinkExpired``."""
        parts = state.split(".") if len(state) <= MAX_STATE_LENGTH else []
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
            raise ConnectLinkInvalid()
        body, mac = state.rpartition(".")[0], parts[3]
        if not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            raise ConnectLinkInvalid()
        consent = ConsentState(int(parts[0]), int(parts[1]), parts[2])
        if now.timestamp() >= consent.expires_at:
            raise ConnectLinkExpired()
        return consent

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
