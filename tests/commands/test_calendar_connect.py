"""`/interviews connect` and `disconnect`, and who is connected in the setup and book modals:
signed requests into the real app, Slack faked over HTTP, Google faked over HTTP and configured
through the app's real settings. On both databases."""

import json
from typing import Any

import pytest

from blocks.book_modal import book_modal
from bot.composition import build_outbox_worker
from bot.domain import BookingForm
from bot.services import Services
from bot.services.consent_state import StateSigner
from bot.settings import Settings
from storage.db import Database
from storage.enums import ConnectionStatus
from storage.models import CalendarConnection
from tests.conftest import (
    ADA,
    BO,
    CHANNEL,
    OUTSIDER,
    T0,
    MovableClock,
    Seed,
    SlackClient,
)
from tests.support.blockkit import assert_valid_message, assert_valid_view
from tests.support.fake_google import FakeGoogle
from tests.support.google import (
    ADA_EMAIL,
    CALLBACK,
    SECRET_KEY,
    back_from_google,
    consent,
    query_of,
)

pytestmark = pytest.mark.google_calendar


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["text"]["text"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _connect_reply(slack: SlackClient, *, user: str = ADA, channel: str = CHANNEL) -> dict[str, Any]:
    response = slack.command("connect", user=user, channel=channel)
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert_valid_message(reply["blocks"])
    return dict(reply)


def _connection_status(db: Database) -> ConnectionStatus | None:
    with db.transaction() as session:
        connection = session.query(CalendarConnection).one_or_none()
        return connection.status if connection else None


# ---------------------------------------------------------------- connect


def test_connect_answers_with_a_button_to_googles_consent_page(
    slack: SlackClient, fake_google: FakeGoogle, seeded: Seed,
) -> None:
    reply = _connect_reply(slack)

    assert reply["text"] == "Connect your Google Calendar."
    assert "*UX Research*" in _text(reply["blocks"])
    button = _buttons(reply["blocks"])["Connect Google Calendar"]
    assert button["action_id"] == "calendar.consent" and button["style"] == "primary"
    assert button["url"].startswith(fake_google.auth_url + "?")
    params = query_of(button["url"])
    assert params["redirect_uri"] == CALLBACK
    StateSigner(SECRET_KEY).verify(params["state"], T0)  # signed with a key from SECRET_KEY
    assert slack.action("calendar.consent").status_code == 200  # the link's click is acknowledged


def test_connecting_end_to_end_then_disconnecting_from_the_reply(
    slack: SlackClient, fake_google: FakeGoogle, server_url: str, settings: Settings, services: Services, db: Database,
    seeded: Seed,
) -> None:
    consent_url = _buttons(_connect_reply(slack)["blocks"])["Connect Google Calendar"]["url"]
    page = back_from_google(server_url, consent(fake_google, consent_url))
    assert page.status_code == 200 and "Google Calendar connected ✓" in page.text
    assert _connection_status(db) is ConnectionStatus.ACTIVE

    # The host hears it in a direct message, through the outbox.
    build_outbox_worker(settings, services).drain()
    dm = slack.fake.wait_for("chat.postMessage")[-1].params
    assert dm["channel"] == ADA and "Google Calendar is connected" in dm["text"]

    # Asked again: connected, with Reconnect and Disconnect.
    reply = _connect_reply(slack)
    assert reply["text"] == "Your Google Calendar is connected."
    buttons = _buttons(reply["blocks"])
    assert set(buttons) == {"Reconnect", "Disconnect"}
    assert buttons["Reconnect"]["url"].startswith(fake_google.auth_url)
    disconnect = buttons["Disconnect"]
    assert disconnect["style"] == "danger" and disconnect["confirm"]["confirm"]["text"] == "Disconnect"

    assert slack.action("calendar.disconnect", value=disconnect["value"]).status_code == 200
    answer = slack.fake.wait_for("response_url")[-1].params
    assert answer["replace_original"] is True and answer["text"] == "Disconnected your Google Calendar."
    assert_valid_message(answer["blocks"])
    assert "Google confirmed" in _text(answer["blocks"])
    assert len(fake_google.calls_to("POST /revoke")) == 1
    assert _connection_status(db) is None


def test_connect_in_a_direct_message_means_the_only_team_with_a_study(slack: SlackClient, seeded: Seed) -> None:
    reply = _connect_reply(slack, channel="D0DIRECT")

    assert "Connect Google Calendar" in _buttons(reply["blocks"])
    assert "*UX Research*" in _text(reply["blocks"])


def test_someone_not_on_the_team_is_told_why(slack: SlackClient, seeded: Seed) -> None:
    in_channel = _connect_reply(slack, user=OUTSIDER)
    elsewhere = _connect_reply(slack, user=OUTSIDER, channel="D0DIRECT")

    assert "Only the research team of *Checkout redesign*" in in_channel["text"]
    assert "research teams with a study" in elsewhere["text"]
    assert _buttons(in_channel["blocks"]) == {} and _buttons(elsewhere["blocks"]) == {}


def test_help_lists_connect_and_disconnect(slack: SlackClient) -> None:
    text = _text(slack.command("help").json()["blocks"])

    assert "`/interviews connect`" in text and "`/interviews disconnect`" in text


# ---------------------------------------------------------------- disconnect


def _connect_ada(slack: SlackClient, fake_google: FakeGoogle, server_url: str) -> None:
    consent_url = _buttons(_connect_reply(slack)["blocks"])["Connect Google Calendar"]["url"]
    assert back_from_google(server_url, consent(fake_google, consent_url, ADA_EMAIL)).status_code == 200


def test_disconnect_acknowledges_at_once_and_answers_through_response_url(
    slack: SlackClient, fake_google: FakeGoogle, server_url: str, db: Database, seeded: Seed,
) -> None:
    _connect_ada(slack, fake_google, server_url)

    response = slack.command("disconnect")

    assert response.status_code == 200 and response.text == ""
    answer = slack.fake.wait_for("response_url")[-1].params
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert answer["text"] == "Disconnected your Google Calendar."
    assert "Events already in your calendar stay there" in _text(answer["blocks"])
    assert _connection_status(db) is None


def test_disconnect_with_google_unreachable_deletes_and_says_revoking_was_not_confirmed(
    slack: SlackClient, fake_google: FakeGoogle, server_url: str, db: Database, seeded: Seed,
) -> None:
    _connect_ada(slack, fake_google, server_url)
    fake_google.fail_next("POST /revoke", 503)

    slack.command("disconnect")

    answer = slack.fake.wait_for("response_url")[-1].params
    assert answer["text"] == "Disconnected your Google Calendar here."
    text = _text(answer["blocks"])
    assert "Google did not confirm" in text and "https://myaccount.google.com/permissions" in text
    assert _connection_status(db) is None


def test_disconnect_when_not_connected_says_so(slack: SlackClient, fake_google: FakeGoogle, seeded: Seed) -> None:
    slack.command("disconnect")

    answer = slack.fake.wait_for("response_url")[-1].params
    assert answer["text"] == "Your Google Calendar isn't connected."
    assert fake_google.calls == []


def test_disconnect_by_someone_not_on_the_team_is_explained(
    slack: SlackClient, fake_google: FakeGoogle, seeded: Seed,
) -> None:
    assert slack.command("disconnect", user=OUTSIDER).status_code == 200

    answer = slack.fake.wait_for("response_url")[-1].params
    assert "Only the research team of *Checkout redesign*" in answer["text"]
    assert fake_google.calls == []


def test_a_disconnect_button_that_is_not_ours_changes_nothing(
    slack: SlackClient, fake_google: FakeGoogle, server_url: str, db: Database, seeded: Seed,
) -> None:
    _connect_ada(slack, fake_google, server_url)

    slack.action("calendar.disconnect", value='{"team_id": "x"}')

    assert "out of date" in slack.fake.wait_for("response_url")[-1].params["text"]
    assert _connection_status(db) is ConnectionStatus.ACTIVE


# ---------------------------------------------------------------- who is connected


def _open_setup(slack: SlackClient) -> dict[str, Any]:
    opened = len(slack.fake.calls_to("views.open"))
    assert slack.command("setup").status_code == 200
    view = slack.fake.wait_for("views.open", opened + 1)[-1].params["view"]
    assert_valid_view(view)
    return dict(view)


def _host_lines(view: dict[str, Any]) -> dict[str, str]:
    return {b["block_id"].rpartition(".")[2]: b["elements"][0]["text"]
            for b in view["blocks"] if b["type"] == "context" and b.get("block_id", "").startswith("setup.hosts.")}


def test_the_setup_modal_shows_each_hosts_calendar(
    slack: SlackClient, fake_google: FakeGoogle, server_url: str, services: Services, db: Database, clock: MovableClock,
    seeded: Seed,
) -> None:
    lines = _host_lines(_open_setup(slack))
    assert "not connected — `/interviews connect`" in lines[ADA] and "not connected" in lines[BO]

    _connect_ada(slack, fake_google, server_url)
    lines = _host_lines(_open_setup(slack))
    assert "📅 Google Calendar connected" in lines[ADA] and "not connected" in lines[BO]

    with db.transaction() as session:
        connection = session.query(CalendarConnection).one()
        services.calendars.refused(session, connection.id, "revoked", clock())
    view = _open_setup(slack)
    assert "needs reconnecting — `/interviews connect`" in _host_lines(view)[ADA]

    # Hosts picked anew are shown with theirs too.
    state = {
        "setup.team": {"study_setup.field": {"type": "static_select", "selected_option": {"value": str(seeded.team_id)}}},
        "setup.hosts": {"study_setup.hosts": {"type": "multi_users_select", "selected_users": [BO, ADA]}},
    }
    modal = {**view, "id": "V0001", "hash": "h1", "state": {"values": state}}
    slack.action("study_setup.hosts", channel=None, view=modal, block_id="setup.hosts",
                 action_type="multi_users_select", action_extra={"selected_users": [BO, ADA]})
    updated = slack.fake.wait_for("views.update")[-1].params["view"]
    assert_valid_view(updated)
    lines = _host_lines(updated)
    assert list(lines) == [BO, ADA]
    assert "not connected" in lines[BO] and "needs reconnecting" in lines[ADA]


def test_the_book_modals_host_picker_names_each_hosts_calendar() -> None:
    long_name = "Bo " + "Bartholomew-" * 10
    form = BookingForm(study_id=1, study_name="Checkout redesign", timezone="Europe/Berlin", duration_minutes=45,
                       participants=(("nora@example.com", "Nora Quist"),), hosts=((ADA, "Ada"), (BO, long_name)))

    plain = book_modal(form, channel_id=CHANNEL).to_dict()
    shown = book_modal(form, channel_id=CHANNEL, calendars={ADA: ConnectionStatus.ACTIVE, BO: None}).to_dict()

    def labels(view: dict[str, Any]) -> list[str]:
        picker = next(b for b in view["blocks"] if b.get("block_id") == "book.host")
        return [o["text"]["text"] for o in picker["element"]["options"]]

    assert_valid_view(shown)
    assert labels(plain)[0] == "Ada" and labels(plain)[1].endswith("Bartholomew…")  # as before
    ada, bo = labels(shown)
    assert ada == "Ada · Google Calendar connected"
    assert bo.startswith("Bo Bartholomew") and bo.endswith("… · calendar not connected") and len(bo) <= 75


# ---------------------------------------------------------------- Google not configured


@pytest.mark.google_calendar(configured=False)
def test_without_google_connect_says_what_to_set_and_setup_shows_no_calendars(slack: SlackClient,
                                                                              seeded: Seed) -> None:
    reply = _connect_reply(slack)

    assert "isn't set up" in reply["text"]
    assert "`GOOGLE_CLIENT_ID`" in reply["text"] and "`GOOGLE_CLIENT_SECRET`" in reply["text"]
    assert _buttons(reply["blocks"]) == {}
    lines = _host_lines(_open_setup(slack))
    assert lines[ADA] == f"🎥 Meeting room of <@{ADA}>"
