"""The OAuth 2.0 half of the fake Google (web-server flow): consent, token, refresh and revoke.

No server of its own: :class:`tests.support.fake_google.FakeGoogle` routes ``/o/oauth2/v2/auth``,
``/token`` and ``/revoke`` here, and asks :meth:`FakeOAuth.account_for` who an access token
belongs to. The shapes follow Google's "OAuth 2.0 for web server applications": a 302 back to
``redirect_uri`` with ``code`` and ``state`` (or ``error=access_denied``), JSON token answers, and
``{"error": "invalid_grant"}`` once a grant has been revoked.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

AUTH_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
REVOKE_PATH = "/revoke"
DEFAULT_ACCESS_TOKEN_LIFETIME = 3599  # seconds, what Google answers


@dataclass(frozen=True)
class Request:
    """One HTTP request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Reply:
    """What the fake answers: a dict is sent as JSON, a str as plain text, None as no body."""

    status: int
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Grant:
    email: str
    scopes: tuple[str, ...]
    refresh_token: str
    revoked: bool = False


@dataclass
class _AccessToken:
    grant: _Grant
    expires_at: float


@dataclass(frozen=True)
class _Code:
    grant: _Grant
    redirect_uri: str


def _token_error(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "error_description": description})


class FakeOAuth:
    """Google's authorization server, in memory. Thread-safe."""

    def __init__(self, client_id: str, client_secret: str, redirect_uris: tuple[str, ...] | None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris
        """Registered redirect URIs; None accepts any."""
        self.access_token_lifetime = DEFAULT_ACCESS_TOKEN_LIFETIME
        self._lock = threading.Lock()
        self._consents: deque[tuple[str, tuple[str, ...] | None] | None] = deque()  # None: deny
        self._requested_scopes: list[tuple[str, ...]] = []
        self._codes: dict[str, _Code] = {}
        self._grants: list[_Grant] = []
        self._access_tokens: dict[str, _AccessToken] = {}

    # -- controls

    def next_consent(self, email: str, *, scopes: tuple[str, ...] | None = None) -> None:
        """The next visit to the consent page is ``email`` agreeing (to ``scopes``: all asked when None)."""
        with self._lock:
            self._consents.append((email, scopes))

    def deny_next_consent(self) -> None:
        with self._lock:
            self._consents.append(None)

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self._access_tokens.values():
                token.expires_at = 0.0

    def revoke_grant(self, email: str) -> None:
        """The person removes the app's access in their Google account."""
        with self._lock:
            for grant in self._grants:
                if grant.email == email:
                    grant.revoked = True

    def issue_tokens(self, email: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        """A grant as if the consent screen had been passed: the token endpoint's answer."""
        with self._lock:
            return self._issue(self._new_grant(email, scopes), with_refresh_token=True)

    @property
    def requested_scopes(self) -> list[tuple[str, ...]]:
        """The scopes asked for on each visit to the consent page, oldest first."""
        with self._lock:
            return list(self._requested_scopes)

    def account_for(self, access_token: str) -> tuple[str, frozenset[str]] | None:
        """The account and scopes of a live access token (None: unknown, expired or revoked)."""
        with self._lock:
            token = self._access_tokens.get(access_token)
            if token is None or token.grant.revoked or token.expires_at <= time.time():
                return None
            return token.grant.email, frozenset(token.grant.scopes)

    # -- endpoints

    def authorize(self, request: Request) -> Reply:
        q = request.query
        if q.get("client_id") != self.client_id:
            return Reply(401, "Error 401: invalid_client\nThe OAuth client was not found.")
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or (self.redirect_uris is not None and redirect_uri not in self.redirect_uris):
            return Reply(400, "Error 400: redirect_uri_mismatch")
        scopes = tuple(q.get("scope", "").split())
        state = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            return _redirect(redirect_uri, error="unsupported_response_type", **state)
        if not scopes:
            return _redirect(redirect_uri, error="invalid_request", **state)
        with self._lock:
            self._requested_scopes.append(scopes)
            if not self._consents:
                return Reply(400, "FakeGoogle: nobody is at the consent screen; call next_consent(email) first")
            consent = self._consents.popleft()
            if consent is None:
                return _redirect(redirect_uri, error="access_denied", **state)
            email, granted = consent
            granted = scopes if granted is None else granted
            if q.get("include_granted_scopes") == "true":
                earlier = [s for g in self._grants if g.email == email and not g.revoked for s in g.scopes]
                granted = tuple(dict.fromkeys([*granted, *earlier]))
            code = "4/" + secrets.token_urlsafe(24)
            self._codes[code] = _Code(self._new_grant(email, granted), redirect_uri)
        return _redirect(redirect_uri, code=code, scope=" ".join(granted), **state)

    def token(self, request: Request) -> Reply:
        form = request.form
        if not self._client_authenticated(request, form):
            return _token_error(401, "invalid_client", "The OAuth client was not found.")
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                code = self._codes.pop(form.get("code", ""), None)  # single use
                if code is None:
                    return _token_error(400, "invalid_grant", "Malformed auth code.")
                if code.redirect_uri != form.get("redirect_uri"):
                    return _token_error(400, "redirect_uri_mismatch", "Bad Request")
                return Reply(200, self._issue(code.grant, with_refresh_token=True))
            if grant_type == "refresh_token":
                grant = self._grant_by_refresh_token(form.get("refresh_token", ""))
                if grant is None or grant.revoked:
                    return _token_error(400, "invalid_grant", "Token has been expired or revoked.")
                return Reply(200, self._issue(grant, with_refresh_token=False))
        return _token_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def revoke(self, request: Request) -> Reply:
        token = request.query.get("token") or request.form.get("token", "")
        with self._lock:
            access = self._access_tokens.get(token)
            grant = access.grant if access is not None else self._grant_by_refresh_token(token)
            if grant is None or grant.revoked:
                return _token_error(400, "invalid_token", "Token expired or revoked")
            grant.revoked = True  # revoking either token ends the whole grant, as Google does
        return Reply(200, {})

    # -- inside the lock

    def _new_grant(self, email: str, scopes: tuple[str, ...]) -> _Grant:
        grant = _Grant(email, scopes, "1//" + secrets.token_urlsafe(32))
        self._grants.append(grant)
        return grant

    def _grant_by_refresh_token(self, refresh_token: str) -> _Grant | None:
        return next((g for g in self._grants if g.refresh_token == refresh_token), None)

    def _issue(self, grant: _Grant, *, with_refresh_token: bool) -> dict[str, Any]:
        access_token = "ya29." + secrets.token_urlsafe(32)
        lifetime = self.access_token_lifetime
        self._access_tokens[access_token] = _AccessToken(grant, time.time() + lifetime)
        answer: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": lifetime,
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }
        if with_refresh_token:
            answer["refresh_token"] = grant.refresh_token
        return answer

    def _client_authenticated(self, request: Request, form: dict[str, str]) -> bool:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.header("Authorization") or ""
        if basic.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
        return client_id == self.client_id and client_secret == self.client_secret


def _redirect(redirect_uri: str, **params: str) -> Reply:
    separator = "&" if "?" in redirect_uri else "?"
    return Reply(302, None, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"})
