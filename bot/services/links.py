"""Participants' personal links: derived, unguessable, stored only as a hash.

A token is HMAC-SHA256(SECRET_KEY, "participant:<id>:<nonce>"): 256 bits no one can guess
without the key. The database keeps the token's SHA-256 (to find the participant) and the nonce
(so a teammate can be shown the link again); neither reveals the token. A new nonce revokes it.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_nonce() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class LinkSigner:
    secret_key: bytes
    base_url: str  # PUBLIC_BASE_URL, without a trailing slash

    def token(self, participant_id: int, nonce: str) -> str:
        digest = hmac.new(self.secret_key, f"participant:{participant_id}:{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def scheduling_url(self, token: str) -> str:
        return f"{self.base_url}/s/{token}"

    def manage_url(self, token: str) -> str:
        return f"{self.base_url}/s/{token}/manage"

    def attend_url(self, token: str, interview_id: int) -> str:
        """"Confirm attendance" for one interview (reminders, confirmations)."""
        return f"{self.base_url}/s/{token}/attend/{interview_id}"

    def rsvp_url(self, token: str, interview_id: int, answer: str) -> str:
        """The invite's Yes / Maybe / No: ``answer`` is "yes", "maybe" or "no"."""
        return f"{self.base_url}/s/{token}/rsvp/{interview_id}/{answer}"
