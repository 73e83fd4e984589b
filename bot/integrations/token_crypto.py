"""Encrypting OAuth tokens at rest, with a key derived from SECRET_KEY.

A copy of the database alone must not let anyone act on a host's calendar, so refresh and access
tokens are stored sealed (Fernet: AES-128-CBC with an HMAC-SHA256, versioned and timestamped).
The Fernet key is derived with HKDF-SHA256 from SECRET_KEY under its own ``info`` label, so it is
independent of the other things derived from that secret. Changing SECRET_KEY makes stored tokens
unreadable: hosts then connect their calendar again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Fixed, public values: HKDF's salt need not be secret, and changing either changes the key.
_SALT = b"interview-desk/token-box/v1"
_INFO = b"interview-desk/google-tokens"


class TokenUnreadable(Exception):
    """A sealed token cannot be opened: SECRET_KEY changed, or the value was altered."""


class TokenBox:
    """Seals and opens short secrets (OAuth tokens) with one key."""

    def __init__(self, fernet_key: bytes) -> None:
        self._fernet = Fernet(fernet_key)

    @classmethod
    def from_secret_key(cls, secret_key: bytes) -> TokenBox:
        if not secret_key:
            raise ValueError("the secret key is empty")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret_key)
        return cls(base64.urlsafe_b64encode(derived))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as error:
            raise TokenUnreadable(
                "a stored Google token cannot be decrypted: SECRET_KEY changed or the value was altered; "
                "the host must connect their calendar again"
            ) from error
