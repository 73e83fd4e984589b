"""The outer shape of a Slack request, checked before Bolt sees it.

Bolt trusts Slack's payload shapes: an action without ``action_id`` or a ``user`` that is a list
makes it fail with a 500. Signed requests come from Slack, so such a body is a bug or an attack,
and deserves a 400. Only the fields Bolt and our listeners read are checked; the rest pass.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Identified(_Open):
    id: str


class _Action(_Open):
    action_id: str
    block_id: str | None = None
    value: str | None = None
    selected_option: dict[str, Any] | None = None


class _Located(_Open):
    """Where Bolt's ``build_context`` reads who and where a request is from: the payload, and
    the authorization, event or message it falls back to. Each field is a string, or an object
    Bolt looks into for an ``id``."""

    enterprise: str | _Open | None = None
    enterprise_id: str | None = None
    team: str | _Open | None = None
    team_id: str | None = None
    user: str | _Identified | None = None
    user_id: str | None = None
    channel: str | _Identified | None = None
    channel_id: str | None = None
    authorizations: list["_Located"] | None = None
    event: "_Located | None" = None
    message: "_Located | None" = None
    previous_message: "_Located | None" = None
    item: "_Located | None" = None
    assistant_thread: "_Located | None" = None


class _Event(_Located):
    type: str


class _View(_Open):
    type: str  # read as soon as a view_submission is matched (payload_utils.is_workflow_step_save)
    callback_id: str | None = None


class _Envelope(_Located):
    type: str | None = None
    command: str | None = None
    text: str | None = None
    response_url: str | None = None
    # No null: Bolt takes its length whenever the key is there.
    response_urls: list[_Open] = Field(default_factory=list)
    trigger_id: str | None = None
    callback_id: str | None = None
    view: _View | None = None
    container: _Open | None = None
    event: _Event | None = None
    actions: list[_Action] | None = None

    @model_validator(mode="after")
    def _required_by_type(self) -> "_Envelope":
        if self.type in ("block_actions", "interactive_message") and not self.actions:
            raise ValueError(f"{self.type} without actions")
        if self.type == "event_callback" and self.event is None:
            raise ValueError("event_callback without event")
        if self.type in ("view_submission", "view_closed") and self.view is None:
            raise ValueError(f"{self.type} without view")
        if self._is_workflow_step() and "workflow_step" not in (self.model_extra or {}):
            raise ValueError("a workflow step without workflow_step")
        return self

    def _is_workflow_step(self) -> bool:
        """What Bolt reads ``workflow_step`` for, without looking (payload_utils.to_step)."""
        saved = self.type == "view_submission" and self.view is not None and self.view.type == "workflow_step"
        return saved or self.type == "workflow_step_edit"


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
