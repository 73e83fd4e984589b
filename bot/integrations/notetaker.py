"""The notetaker webhook: asks a study's notetaker service to send its bot to a meeting.

One signed HTTP POST with a JSON body. The receiver checks the request came from us and is fresh:

    X-Interview-Desk-Timestamp: <Unix seconds>
    X-Interview-Desk-Signature: v1=<hex HMAC-SHA256(NOTETAKER_SECRET, "v1:{timestamp}:{body}")>
    X-Interview-Desk-Delivery: <id, the same for every retry of one request, to drop repeats>

The same scheme as Slack's own request signing, so receivers can reuse what they know. No
database and no Slack here: the deliverer (``bot/jobs/notetaker_deliverer.py``) decides what a
failure means for the interview.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Interview-Desk-Signature"
TIMESTAMP_HEADER = "X-Interview-Desk-Timestamp"
DELIVERY_HEADER = "X-Interview-Desk-Delivery"
VERSION = "v1"
# How old a signed request may be before a receiver should refuse it (replays).
TOLERANCE_SECONDS = 300
DEFAULT_TIMEOUT = 5.0  # seconds: a click or the worker waits on this, so short; a retry comes later
USER_AGENT = "InterviewDesk-Notetaker/1"


class NotetakerError(Exception):
    """The notetaker did not take the request. ``temporary``: asking again later may work."""

    def __init__(self, message: str, *, temporary: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.retry_after = retry_after


def encode(body: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and signed (compact JSON, keys sorted)."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= TOLERANCE_SECONDS and hmac.compare_digest(given, signature(secret, timestamp, body))


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _said(response: httpx.Response) -> str:
    """A short, single-line excerpt of what the notetaker answered, for the error."""
    body = " ".join(response.text.split())[:200]
    return f": {body}" if body else ""


class NotetakerClient:
    def __init__(
        self, secret: str, *, timeout: float = DEFAULT_TIMEOUT, wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the notetaker secret is empty")
        self._secret = secret
        self._timeout = timeout
        # Real time, not the app's clock: the receiver compares the timestamp with its own.
        self._wall_clock = wall_clock
        # One client for every request: a new one would build its TLS context each time (tens
        # of milliseconds of CPU), and it keeps connections to the notetaker open between them.
        # No redirects: a signed request is for the address configured, nowhere else.
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)

    def headers(self, body: bytes, delivery_id: str) -> dict[str, str]:
        timestamp = str(int(self._wall_clock()))
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            DELIVERY_HEADER: delivery_id,
        }

    def send(self, url: str, body: Mapping[str, Any], *, delivery_id: str) -> None:
        """POST the signed request; raise ``NotetakerError`` unless the notetaker answered 2xx."""
        data = encode(body)
        try:
            response = self._http.post(url, content=data, headers=self.headers(data, delivery_id))
        except httpx.TimeoutException:
            raise NotetakerError(f"the notetaker did not answer within {self._timeout:g} s", temporary=True) from None
        except httpx.InvalidURL as error:
            raise NotetakerError(f"the notetaker URL is not valid ({error})", temporary=False) from None
        except httpx.UnsupportedProtocol:
            raise NotetakerError("the notetaker URL must start with https:// or http://", temporary=False) from None
        except httpx.HTTPError as error:  # refused, reset, name not found: the service may be back soon
            raise NotetakerError(f"the notetaker could not be reached ({error.__class__.__name__})", temporary=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429:
            raise NotetakerError("the notetaker asked us to slow down (HTTP 429)", temporary=True,
                                 retry_after=_retry_after(response))
        if status >= 500 or status == 408:
            raise NotetakerError(f"the notetaker failed (HTTP {status})", temporary=True)
        if 300 <= status < 400:
            where = response.headers.get("Location", "elsewhere")[:200]
            raise NotetakerError(f"the notetaker URL redirects to {where}; configure that address instead",
                                 temporary=False)
        raise NotetakerError(f"the notetaker refused the request (HTTP {status}{_said(response)})", temporary=False)
