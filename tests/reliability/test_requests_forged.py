"""Requests that did not come from Slack, or came twice: refused, or acted on once.

Each forgery is built from a request that *would* change something (Ada cancelling Nora's
interview from its modal, Ada's "Send reminder now", a slash command, an event): a signature
made with another secret, a genuine signature over another body, a replay older than five
minutes, a timestamp from the future, missing or malformed headers. Each gets a 401, reaches no
listener (no call to Slack's API) and changes nothing; then the genuine request does what it
says, which shows the forgeries were refused for their signature alone.

Slack retries a request it thinks failed (``X-Slack-Retry-Num``); a retried action or modal
submission must not act twice: one cancellation, one reminder. Both databases.
"""

import json
import time
from typing import Any

import httpx
from sqlalchemy import select

from blocks.ids import ActionChoice, ActionModalState, CallbackId, action_button_id
from bot.actions import InterviewAction
from storage.enums import ActivityKind, InterviewStatus, OutboxKind
from storage.models import ActivityEvent, Interview, OutboxItem
from tests.conftest import ADA, CHANNEL, WORKSPACE
from tests.reliability import assert_unchanged, differences, snapshot
from tests.reliability.world import RunningApp, signed
from tests.support import slack_requests

FORM, JSON = slack_requests.FORM_CONTENT_TYPE, slack_requests.JSON_CONTENT_TYPE
FIVE_MINUTES = 5 * 60


def cancel_submission(app: RunningApp, view_id: str = "V0CANCEL") -> str:
    choice = ActionChoice(action=InterviewAction.CANCEL, interview_id=app.interview_id, seen_start=app.seen_start,
                          seen_status=InterviewStatus.UPCOMING)
    return slack_requests.view_submission(
        CallbackId.CANCEL, state_values={}, private_metadata=ActionModalState(choice=choice).encode(),
        user_id=ADA, team_id=WORKSPACE, view_id=view_id,
    )


def reminder_click(app: RunningApp) -> str:
    choice = ActionChoice(action=InterviewAction.SEND_REMINDER_NOW, interview_id=app.interview_id,
                          seen_start=app.seen_start, seen_status=InterviewStatus.UPCOMING)
    return slack_requests.block_actions(
        action_button_id(InterviewAction.SEND_REMINDER_NOW), value=choice.encode(), user_id=ADA, team_id=WORKSPACE,
        channel_id=CHANNEL, response_url=app.response_url(),
    )


def forgeries(body: str, content_type: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    """What a forger can send instead of ``body``, Slack's headers included, by name."""
    raw, now = body.encode(), int(time.time())
    genuine = signed(raw, content_type)
    other_body = raw.replace(b"U0ADA", b"U0EVE") if b"U0ADA" in raw else raw + b"&x=1"
    without = {name: value for name, value in genuine.items() if name != "X-Slack-Signature"}
    return {
        "no signature headers": (raw, {"Content-Type": content_type}),
        "no signature": (raw, without),
        "no timestamp": (raw, {k: v for k, v in genuine.items() if k != "X-Slack-Request-Timestamp"}),
        "another secret": (raw, signed(raw, content_type, secret="not-the-signing-secret")),
        "empty secret": (raw, signed(raw, content_type, secret="")),
        "a genuine signature over another body": (other_body, genuine),
        "replayed after six minutes": (raw, signed(raw, content_type, timestamp=now - FIVE_MINUTES - 60)),
        "replayed after a day": (raw, signed(raw, content_type, timestamp=now - 86_400)),
        "timestamp six minutes ahead": (raw, signed(raw, content_type, timestamp=now + FIVE_MINUTES + 60)),
        "timestamp at 0": (raw, signed(raw, content_type, timestamp=0)),
        "timestamp not a number": (raw, {**genuine, "X-Slack-Request-Timestamp": "yesterday"}),
        "genuine signature, other timestamp": (raw, {**genuine, "X-Slack-Request-Timestamp": str(now - 1)}),
        "v1 scheme": (raw, {**genuine, "X-Slack-Signature": genuine["X-Slack-Signature"].replace("v0=", "v1=")}),
        "signature upper-cased": (raw, {**genuine, "X-Slack-Signature": "v0=" + genuine["X-Slack-Signature"][3:].upper()}),
        "signature cut short": (raw, {**genuine, "X-Slack-Signature": genuine["X-Slack-Signature"][:-8]}),
        "empty signature": (raw, {**genuine, "X-Slack-Signature": ""}),
    }


def canceled(app: RunningApp) -> bool:
    with app.db.transaction() as session:
        interview = session.get(Interview, app.interview_id)
        assert interview is not None
        return interview.status is InterviewStatus.CANCELED


def test_forged_stale_and_replayed_requests_get_401_reach_no_listener_and_change_nothing(app: RunningApp) -> None:
    home = slack_requests.event_callback({"type": "app_home_opened", "user": ADA, "tab": "home"}, team_id=WORKSPACE)
    command = slack_requests.slash_command("/interviews", "", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL,
                                           response_url=app.response_url())
    requests = [(cancel_submission(app), FORM), (reminder_click(app), FORM), (command, FORM), (home, JSON)]

    answers: dict[str, Any] = {}
    for body, content_type in requests:
        for name, (raw, headers) in forgeries(body, content_type).items():
            response = app.http.post("/slack/events", content=raw, headers=headers)
            answers[f"{json.loads(body).get('type') if content_type == JSON else body[:40]} / {name}"] = (
                response.status_code, response.json())

    assert all(answer == (401, {"error": "invalid signature"}) for answer in answers.values()), answers
    assert_unchanged(app.db, app.initial)
    assert app.fake.calls == []  # no listener ran: none of them talked to Slack

    # The genuine request, as Slack signs it, is taken.
    response = app.post(cancel_submission(app))
    assert response.status_code == 200 and response.json()["response_action"] == "update"
    app.settle()
    assert canceled(app)


def _events(app: RunningApp, kind: ActivityKind) -> int:
    with app.db.transaction() as session:
        return len(session.scalars(
            select(ActivityEvent.id).where(ActivityEvent.interview_id == app.interview_id, ActivityEvent.kind == kind)
        ).all())


def _emails_to(app: RunningApp, address: str) -> list[str]:
    with app.db.transaction() as session:
        items = session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.EMAIL)).all()
        return [item.idempotency_key for item in items if address in json.dumps(item.payload)]


def _retried(app: RunningApp, body: str, retries: int = 3) -> list[httpx.Response]:
    """The request, then Slack's retries of it: signed again, numbered, at once."""
    responses = [app.post(body)]
    for number in range(1, retries + 1):
        responses.append(app.post(body, headers={"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_timeout"}))
    return responses


def test_a_retried_cancel_submission_cancels_once(app: RunningApp) -> None:
    before_emails = _emails_to(app, "nora@example.com")

    responses = _retried(app, cancel_submission(app))

    assert [r.status_code for r in responses] == [200] * len(responses)
    app.settle()
    assert canceled(app)
    assert _events(app, ActivityKind.CANCELED) == 1
    emails = [key for key in _emails_to(app, "nora@example.com") if key not in before_emails]
    assert len(emails) == 1, emails  # the one cancellation
    with app.db.transaction() as session:
        assert session.get(Interview, app.interview_id).ical_sequence == 1  # type: ignore[union-attr]
    # Only the first submission did the work and then showed how its emails went; the retries
    # were answered at once that the interview had changed (it is canceled now).
    assert len(app.fake.calls_to("views.update")) == 1
    assert all(r.json()["response_action"] == "update" for r in responses)
    assert all("cancel" in json.dumps(r.json()["view"]).lower() for r in responses[1:])


def test_a_retried_reminder_click_sends_one_reminder(app: RunningApp) -> None:
    before = snapshot(app.db)

    responses = _retried(app, reminder_click(app))

    assert [r.status_code for r in responses] == [200] * len(responses)
    app.settle()
    added = differences(before, snapshot(app.db)).get("outbox", {}).get("new", [])
    reminders = [row for row in added if "nora@example.com" in str(row)]
    assert len(reminders) == 1, reminders
    replies = [c.params["text"] for c in app.fake.calls_to("response_url")]
    assert len(replies) == len(responses)  # every click was answered, only the first one sent
