"""Builders for signed requests as Slack sends them to an app's Request URL.

Bodies are returned as ``str`` exactly as they go over the wire; sign them with
:func:`sign` (form bodies) or :func:`sign_json` (Events API bodies)::

    body = slash_command(text="list", user_id="U1", team_id="T0TEST",
                         channel_id="C1", response_url=fake.response_url("cmd"))
    headers = sign(body, SIGNING_SECRET)
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

__all__ = [
    "DEFAULT_API_APP_ID",
    "DEFAULT_TEAM_DOMAIN",
    "DEFAULT_TRIGGER_ID",
    "FORM_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "VERIFICATION_TOKEN",
    "block_actions",
    "event_callback",
    "sign",
    "sign_json",
    "slash_command",
    "view_submission",
]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
DEFAULT_API_APP_ID = "A0TEST"
DEFAULT_TEAM_DOMAIN = "interview-desk-test"
DEFAULT_TRIGGER_ID = "13345224609.738474920.8088930838d88f008e0"
DEFAULT_MESSAGE_TS = "1700000000.000100"
VERIFICATION_TOKEN = "verification-token-unused"
"""Slack's deprecated verification token; present in payloads, not used for auth."""
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"

_SELECTED_OPTION_TYPES = frozenset({"overflow", "static_select", "external_select", "radio_buttons"})


# ---------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------


def sign(
    body: str,
    signing_secret: str,
    timestamp: int | None = None,
    *,
    content_type: str = FORM_CONTENT_TYPE,
) -> dict[str, str]:
    """Headers Slack sends with ``body``: timestamp, ``v0=`` signature and content type."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


def sign_json(body: str, signing_secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Like :func:`sign`, for JSON bodies such as :func:`event_callback`."""
    return sign(body, signing_secret, timestamp, content_type=JSON_CONTENT_TYPE)


# ---------------------------------------------------------------------------
# Slash commands
# ---------------------------------------------------------------------------


def slash_command(
    command: str = "/interviews",
    text: str = "",
    *,
    user_id: str,
    team_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str = DEFAULT_TRIGGER_ID,
    user_name: str | None = None,
    channel_name: str = "interviews",
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_API_APP_ID,
) -> str:
    """A form-encoded slash command invocation, fields in Slack's order."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


# ---------------------------------------------------------------------------
# Interactivity
# ---------------------------------------------------------------------------


def block_actions(
    action_id: str,
    *,
    value: str | None = None,
    selected_option_value: str | None = None,
    selected_option_text: str | None = None,
    block_id: str = "b",
    user_id: str,
    team_id: str,
    channel_id: str | None = None,
    response_url: str | None = None,
    trigger_id: str = DEFAULT_TRIGGER_ID,
    view: Mapping[str, Any] | None = None,
    container: Mapping[str, Any] | None = None,
    action_type: str = "button",
    message: Mapping[str, Any] | None = None,
    message_ts: str = DEFAULT_MESSAGE_TS,
    action_extra: Mapping[str, Any] | None = None,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_API_APP_ID,
) -> str:
    """A form-encoded ``payload=<json>`` for a ``block_actions`` interaction.

    With ``view`` the action comes from a modal or Home tab; otherwise from the
    message ``message_ts`` in ``channel_id``. For menus (``overflow``,
    ``static_select``, ...) the choice (``selected_option_value`` or ``value``)
    is sent as ``selected_option``; ``action_extra`` is merged into the action.
    """
    if container is None:
        if view is not None:
            container = {"type": "view", "view_id": view.get("id", "V0001")}
        elif channel_id is not None:
            container = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
        else:
            raise ValueError("block_actions needs channel_id, view or container")

    action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "type": action_type}
    if action_type in _SELECTED_OPTION_TYPES:
        choice = selected_option_value if selected_option_value is not None else value
    else:
        choice = selected_option_value
        if value is not None:
            action["value"] = value
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
    if choice is not None:
        action["selected_option"] = {
            "text": {"type": "plain_text", "text": selected_option_text or choice, "emoji": True},
            "value": choice,
        }
    action["action_ts"] = f"{time.time():.6f}"
    if action_extra:
        action.update(action_extra)

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": dict(container),
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
    if container.get("type") == "message":
        payload["message"] = dict(message) if message is not None else _bot_message(team_id, message_ts)
        payload["state"] = {"values": {}}
    if view is not None:
        payload["view"] = dict(view)
    if response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = [action]
    return _form_payload(payload)


def view_submission(
    callback_id: str,
    *,
    state_values: Mapping[str, Any],
    private_metadata: str = "",
    user_id: str,
    team_id: str,
    view_id: str = "V0001",
    blocks: list[dict[str, Any]] | None = None,
    title: str = "Interview Desk",
    trigger_id: str = DEFAULT_TRIGGER_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_API_APP_ID,
) -> str:
    """A form-encoded ``payload=<json>`` for a modal ``view_submission``.

    ``state_values`` is ``view.state.values`` as Slack sends it, e.g.
    ``{"block": {"action": {"type": "plain_text_input", "value": "x"}}}``.
    """
    view = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": blocks or [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": dict(state_values)},
        "hash": "1700000000.00000001",
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": api_app_id,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_domain},
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _form_payload(payload)


# ---------------------------------------------------------------------------
# Events API
# ---------------------------------------------------------------------------


def event_callback(
    event: Mapping[str, Any],
    *,
    team_id: str,
    event_id: str = "Ev0TEST0001",
    event_time: int | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
) -> str:
    """A JSON Events API envelope; sign it with :func:`sign_json` (content type JSON)."""
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "context_team_id": team_id,
            "context_enterprise_id": None,
            "api_app_id": api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()) if event_time is None else event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _user(user_id: str, team_id: str) -> dict[str, str]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _bot_message(team_id: str, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": DEFAULT_API_APP_ID,
        "team": team_id,
        "text": "",
        "ts": ts,
        "blocks": [],
    }


def _form_payload(payload: Mapping[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})
