"""The outer shape of a Slack request, checked before Bolt sees it.

Bolt trusts Slack's payload shapes: an action without ``action_id`` or a ``user`` that is a list
makes it fail with a 500. Signed requests come from Slack, so such a body is a bug or an attack,
and deserves a 400. Only the fields Bolt and our listeners read are checked; the rest pass.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Identified(_Open):
    id: str


class _Action(_Open):
    action_id: str
    block_id: str | None = None
    value: str | None = None
    selected_option: dict[str, Any] | None = None


class _Event(_Open):
    type: str


class _Envelope(_Open):
    type: str | None = None
    command: str | None = None
    text: str | None = None
    user_id: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    callback_id: str | None = None
    user: str | _Identified | None = None
    team: str | _Open | None = None
    channel: str | _Identified | None = None
    view: _Open | None = None
    container: _Open | None = None
    message: _Open | None = None
    event: _Event | None = None
    authorizations: list[_Open] | None = None
    actions: list[_Action] | None = None

    @model_validator(mode="after")
    def _required_by_type(self) -> "_Envelope":
        if self.type == "block_actions" and not self.actions:
            raise ValueError("block_actions without actions")
        if self.type == "event_callback" and self.event is None:
            raise ValueError("event_callback without event")
        if self.type in ("view_submission", "view_closed") and self.view is None:
            raise ValueError(f"{self.type} without view")
        return self


def problem(body: object) -> str | None:
    """Why ``body`` is not a Slack request the app can handle, or None when it is fine."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    try:
        _Envelope.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        return f"{where}: {first['msg']}"
    return None
