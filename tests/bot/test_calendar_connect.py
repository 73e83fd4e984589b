"""Connecting and disconnecting a host's Google Calendar: the service against the fake Google
(real OAuth over HTTP, the real googleapiclient for the push channel), on both databases."""

import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, text

from bot.composition import google_setup
from bot.domain import Actor
from bot.integrations.google_values import GOOGLE_SCOPES
from bot.integrations.token_crypto import TokenBox, TokenUnreadable
from bot.services import Services
from bot.services.calendar_access import CalendarAccess
from bot.services.calendar_connect import (
    CalendarConnectService,
    ConnectLinkUsed,
    GoogleDidNotAnswer,
    GoogleNotConfigured,
    GoogleRefusedCode,
    ScopesNotGranted,
)
from bot.services.consent_state import ConnectLinkExpired, ConnectLinkInvalid, StateSigner
from bot.services.errors import InvalidInput, NotAllowed
from bot.settings import Settings
from storage.db import Database
from storage.enums import ConnectionStatus, OutboxKind
from storage.models import CalendarBusy, CalendarConnection, OutboxItem, TeamMember
from tests.conftest import (
    ADA,
    BO,
    CHANNEL,
    OUTSIDER,
    T0,
    WORKSPACE,
    MovableClock,
    Seed,
)
from tests.support.fake_google import FakeGoogle
from tests.support.google import (
    ADA_EMAIL,
    BASE_URL,
    CALLBACK,
    EVENTS,
    FREEBUSY,
    SECRET_KEY,
    consent,
    query_of,
    token_calls,
)

pytestmark = pytest.mark.google_calendar


@pytest.fixture
def access(services: Services) -> CalendarAccess:
    return services.calendars


@pytest.fixture
def connect(services: Services) -> CalendarConnectService:
    return services.calendar_connect


ADA_ACTOR = Actor.slack_user(WORKSPACE, ADA)


def _connect_ada(connect: CalendarConnectService, fake_google: FakeGoogle, **consent_options: Any) -> dict[str, str]:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    back = query_of(consent(fake_google, offer.consent_url, **consent_options))
    connect.complete(code=back["code"], state=back["state"])
    return back


def _connection(db: Database, slack_user: str = ADA) -> CalendarConnection | None:
    with db.transaction() as session:
        return session.scalars(
            select(CalendarConnection).join(CalendarConnection.member).where(TeamMember.slack_user_id == slack_user)
        ).one_or_none()


def _count(db: Database, model: Any) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------- the consent link


def test_offer_links_to_googles_consent_page_with_a_signed_state(
    connect: CalendarConnectService, fake_google: FakeGoogle, seeded: Seed,
) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)

    assert (offer.team_name, offer.status, offer.problem) == ("UX Research", None, None)
    assert offer.consent_url.startswith(fake_google.auth_url + "?")
    params = query_of(offer.consent_url)
    assert params["redirect_uri"] == CALLBACK
    assert params["client_id"] == fake_google.oauth.client_id
    assert params["scope"].split() == list(GOOGLE_SCOPES)
    assert (params["access_type"], params["prompt"], params["response_type"]) == ("offline", "consent", "code")
    assert offer.expires_at == T0 + timedelta(minutes=15)
    state = StateSigner(SECRET_KEY).verify(params["state"], T0)
    assert state.expires_at == int(offer.expires_at.timestamp())


def test_connecting_stores_the_grant_sealed_and_tells_the_host(connect: CalendarConnectService, fake_google: FakeGoogle,
                                                               db: Database, seeded: Seed) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    back = query_of(consent(fake_google, offer.consent_url))

    connected = connect.complete(code=back["code"], state=back["state"])

    assert (connected.slack_user_id, connected.team_name, connected.reconnected) == (ADA, "UX Research", False)
    connection = _connection(db)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.scopes.split() == list(GOOGLE_SCOPES)
    with db.transaction() as session:
        dm = session.scalars(select(OutboxItem).where(OutboxItem.kind == OutboxKind.SLACK_POST)).one()
    assert dm.payload["channel"] == ADA and "Google Calendar is connected" in dm.payload["text"]
    assert "*UX Research*" in dm.payload["text"]


def test_stored_tokens_are_unreadable_in_the_database_and_open_with_the_key(
    connect: CalendarConnectService, fake_google: FakeGoogle, db: Database, seeded: Seed,
) -> None:
    _connect_ada(connect, fake_google)

    with db.engine.connect() as raw:
        row = raw.execute(text("SELECT * FROM calendar_connections")).mappings().one()
    box = TokenBox.from_secret_key(SECRET_KEY)
    access_token, refresh_token = box.open(row["access_token"]), box.open(row["refresh_token"])
    # The opened tokens are the live grant Google issued to Ada...
    assert fake_google.oauth.account_for(access_token) == (ADA_EMAIL, frozenset(GOOGLE_SCOPES))
    assert refresh_token.startswith("1//")
    # ...and no column of the row holds either of them in the clear.
    stored = " ".join(str(value) for value in row.values())
    assert access_token not in stored and refresh_token not in stored
    assert "ya29." not in stored and "1//" not in stored
    with pytest.raises(TokenUnreadable):
        TokenBox.from_secret_key(b"another-secret-key").open(row["refresh_token"])


# ---------------------------------------------------------------- the state


def test_a_state_works_once(
    connect: CalendarConnectService, fake_google: FakeGoogle, db: Database, seeded: Seed,
) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    first = query_of(consent(fake_google, offer.consent_url))
    connect.complete(code=first["code"], state=first["state"])
    stored = _connection(db)
    assert stored is not None

    # Someone replays the link (history, a shared screen) and passes consent with another account.
    second = query_of(consent(fake_google, offer.consent_url, "mallory@example.com"))
    with pytest.raises(ConnectLinkUsed):
        connect.complete(code=second["code"], state=second["state"])

    after = _connection(db)
    assert after is not None and after.refresh_token == stored.refresh_token  # no second grant stored
    assert token_calls(fake_google) == 1  # refused before the code was spent


def test_twin_callbacks_at_once_store_one_grant(connect: CalendarConnectService, fake_google: FakeGoogle, db: Database,
                                               seeded: Seed) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    codes = [query_of(consent(fake_google, offer.consent_url))["code"] for _ in range(2)]
    state = query_of(offer.consent_url)["state"]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def finish(code: str) -> None:
        start.wait()
        try:
            connect.complete(code=code, state=state)
            outcomes.append("connected")
        except ConnectLinkUsed:
            outcomes.append("used")

    threads = [threading.Thread(target=finish, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["connected", "used"]
    assert _count(db, CalendarConnection) == 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 1  # one message to Ada


def test_an_expired_state_is_refused_before_google_is_asked(connect: CalendarConnectService, fake_google: FakeGoogle,
                                                            clock: MovableClock, db: Database, seeded: Seed) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    back = query_of(consent(fake_google, offer.consent_url))
    clock.advance(minutes=15)

    with pytest.raises(ConnectLinkExpired):
        connect.complete(code=back["code"], state=back["state"])

    assert _connection(db) is None and token_calls(fake_google) == 0


def test_a_forged_state_is_refused(
    connect: CalendarConnectService, fake_google: FakeGoogle, db: Database, seeded: Seed,
) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    state = query_of(offer.consent_url)["state"]
    member, expires, print_, mac = state.split(".")
    bo_member = str(int(member) + 1)  # Bo's member row, right after Ada's
    forged = [
        f"{bo_member}.{expires}.{print_}.{mac}",  # someone else's calendar, same signature
        f"{member}.{int(expires) + 3600}.{print_}.{mac}",  # a longer life
        StateSigner(b"not-our-secret").sign(int(member), T0 + timedelta(minutes=5), print_),
        "not-a-state", "", "1.2.3.4.5", "x" * 500,
    ]
    for state in forged:
        with pytest.raises(ConnectLinkInvalid):
            connect.complete(code="4/irrelevant", state=state)
    assert _connection(db) is None and token_calls(fake_google) == 0


def test_an_old_link_is_refused_after_a_newer_one_connected(connect: CalendarConnectService, fake_google: FakeGoogle,
                                                            seeded: Seed) -> None:
    older = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    _connect_ada(connect, fake_google)
    back = query_of(consent(fake_google, older.consent_url))

    with pytest.raises(ConnectLinkUsed):
        connect.complete(code=back["code"], state=back["state"])


# ---------------------------------------------------------------- Google's answers


def test_unticked_scopes_are_named_and_nothing_is_stored(connect: CalendarConnectService, fake_google: FakeGoogle,
                                                        db: Database, seeded: Seed) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    back = query_of(consent(fake_google, offer.consent_url, scopes=(EVENTS,)))

    with pytest.raises(ScopesNotGranted) as refused:
        connect.complete(code=back["code"], state=back["state"])

    assert refused.value.missing == (FREEBUSY,)
    assert refused.value.named == (("See your free/busy times", FREEBUSY),)
    assert _connection(db) is None and _count(db, OutboxItem) == 0


def test_google_unreachable_stores_nothing_and_the_link_still_works(
    connect: CalendarConnectService, fake_google: FakeGoogle, db: Database, seeded: Seed,
) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    back = query_of(consent(fake_google, offer.consent_url))
    fake_google.fail_next("POST /token", 503)

    with pytest.raises(GoogleDidNotAnswer):
        connect.complete(code=back["code"], state=back["state"])
    assert _connection(db) is None and _count(db, OutboxItem) == 0

    connect.complete(code=back["code"], state=back["state"])  # nothing half-written stands in the way
    assert _connection(db) is not None


def test_a_spent_code_is_refused_by_google(connect: CalendarConnectService, fake_google: FakeGoogle, db: Database,
                                           seeded: Seed) -> None:
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    back = query_of(consent(fake_google, offer.consent_url))
    spent = httpx.post(fake_google.token_url, data={
        "grant_type": "authorization_code", "code": back["code"], "redirect_uri": CALLBACK,
        "client_id": fake_google.oauth.client_id, "client_secret": fake_google.oauth.client_secret,
    })
    assert spent.status_code == 200

    with pytest.raises(GoogleRefusedCode) as refused:
        connect.complete(code=back["code"], state=back["state"])

    assert refused.value.code_spent
    assert _connection(db) is None


def test_a_wrong_client_secret_is_reported_for_the_admin(db: Database, clock: MovableClock, fake_google: FakeGoogle,
                                                         settings: Settings, seeded: Seed) -> None:
    wrong = google_setup(settings.model_copy(update={"google_client_secret": SecretStr("wrong")}))
    connect = CalendarConnectService(db, clock, CalendarAccess(db, clock, wrong), SECRET_KEY)
    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    back = query_of(consent(fake_google, offer.consent_url))

    with pytest.raises(GoogleRefusedCode) as refused:
        connect.complete(code=back["code"], state=back["state"])

    assert not refused.value.code_spent and "invalid_client" in refused.value.message


# ---------------------------------------------------------------- reconnecting


def test_reconnecting_replaces_the_grant_and_clears_the_problem(
    connect: CalendarConnectService, access: CalendarAccess, fake_google: FakeGoogle, db: Database,
    clock: MovableClock, seeded: Seed,
) -> None:
    _connect_ada(connect, fake_google)
    before = _connection(db)
    assert before is not None
    with db.transaction() as session:
        assert access.refused(session, before.id, "Token has been expired or revoked.", clock())

    offer = connect.offer(ADA_ACTOR, channel_id=CHANNEL)
    assert (offer.status, offer.problem) == (ConnectionStatus.NEEDS_RECONNECT, "Token has been expired or revoked.")
    back = query_of(consent(fake_google, offer.consent_url))
    connected = connect.complete(code=back["code"], state=back["state"])

    after = _connection(db)
    assert connected.reconnected
    assert after is not None and after.id == before.id
    assert (after.status, after.problem) == (ConnectionStatus.ACTIVE, None)
    assert after.refresh_token != before.refresh_token
    assert connect.offer(ADA_ACTOR, channel_id=CHANNEL).status is ConnectionStatus.ACTIVE
    with db.transaction() as session:
        texts = [i.payload["text"] for i in session.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    assert len(texts) == 3 and "refused" in texts[1] and "reconnected" in texts[2]  # asked once, then told


# ---------------------------------------------------------------- who may connect


def test_only_members_of_a_team_with_a_study_may_connect(connect: CalendarConnectService, services: Services,
                                                         seeded: Seed) -> None:
    with pytest.raises(NotAllowed, match="research team of \\*Checkout redesign\\*"):
        connect.offer(Actor.slack_user(WORKSPACE, OUTSIDER), channel_id=CHANNEL)
    with pytest.raises(NotAllowed, match="not on one here yet"):
        connect.offer(Actor.slack_user(WORKSPACE, OUTSIDER), channel_id="D0DIRECT")

    services.teams.create("Studyless", WORKSPACE, [OUTSIDER])
    with pytest.raises(NotAllowed, match="not on one here yet"):
        connect.offer(Actor.slack_user(WORKSPACE, OUTSIDER), channel_id="D0DIRECT")
    with pytest.raises(NotAllowed):  # Ada's team, seen from another workspace
        connect.offer(Actor.slack_user("T0OTHER", ADA), channel_id=CHANNEL)


def test_outside_a_study_channel_the_only_team_with_a_study_is_meant(connect: CalendarConnectService,
                                                                     services: Services, seeded: Seed) -> None:
    assert connect.offer(ADA_ACTOR, channel_id="D0DIRECT").team_name == "UX Research"
    assert connect.offer(ADA_ACTOR, channel_id=None).team_name == "UX Research"

    other = services.teams.create("Growth", WORKSPACE, [ADA])
    services.studies.create(team_ref=other.id, name="Onboarding", channel_id="C0GROWTH", timezone="UTC",
                            duration_minutes=30, host_ids=[ADA])
    with pytest.raises(InvalidInput, match=r"several research teams \(\*Growth\*, \*UX Research\*\)"):
        connect.offer(ADA_ACTOR, channel_id="D0DIRECT")
    assert connect.offer(ADA_ACTOR, channel_id="C0GROWTH").team_name == "Growth"
    assert connect.offer(ADA_ACTOR, channel_id=None, team_id=other.id).team_name == "Growth"


def test_without_google_configured_the_answer_says_what_to_set(db: Database, clock: MovableClock, seeded: Seed) -> None:
    connect = CalendarConnectService(db, clock, CalendarAccess(db, clock, None), SECRET_KEY)

    with pytest.raises(GoogleNotConfigured) as refused:
        connect.offer(ADA_ACTOR, channel_id=CHANNEL)

    assert "GOOGLE_CLIENT_ID" in refused.value.message and "GOOGLE_CLIENT_SECRET" in refused.value.message
    assert "/google/oauth/callback" in refused.value.message
    assert connect.calendar_states(ADA_ACTOR, team_id=seeded.team_id, slack_user_ids=[ADA]) is None


# ---------------------------------------------------------------- disconnecting


def _watch(access: CalendarAccess, db: Database, fake_google: FakeGoogle) -> str:
    """Open a push channel on Ada's calendar, as the sync job does, and keep it on the connection."""
    connection = _connection(db)
    assert connection is not None
    channel = access.client(connection).watch(channel_id="chan-ada", token="tok",
                                              address=f"{BASE_URL}/google/notifications", ttl_seconds=3600)
    with db.transaction() as session:
        stored = session.get(CalendarConnection, connection.id)
        assert stored is not None
        stored.channel_id, stored.channel_resource_id = channel.id, channel.resource_id
        stored.channel_expires_at = channel.expires_at
        session.add_all([CalendarBusy(connection_id=connection.id, starts_at=T0 + timedelta(hours=h),
                                      ends_at=T0 + timedelta(hours=h, minutes=30)) for h in (1, 2)])
    assert fake_google.channel_ids == ["chan-ada"]
    return channel.id


def test_disconnecting_revokes_at_google_stops_the_channel_and_deletes_everything(
    connect: CalendarConnectService, access: CalendarAccess, fake_google: FakeGoogle, db: Database, seeded: Seed,
) -> None:
    _connect_ada(connect, fake_google)
    connection = _connection(db)
    assert connection is not None
    grant = access.grant(connection)
    _watch(access, db, fake_google)

    result = connect.disconnect(ADA_ACTOR, channel_id=CHANNEL)

    assert (result.team_name, result.was_connected, result.revoked) == ("UX Research", True, True)
    revokes = fake_google.calls_to("POST /revoke")
    assert [c.form["token"] for c in revokes] == [grant.refresh_token]
    assert fake_google.oauth.account_for(grant.access_token) is None  # the grant is gone at Google
    assert fake_google.channel_ids == []
    assert _connection(db) is None and _count(db, CalendarBusy) == 0


def test_disconnecting_when_google_is_unreachable_still_deletes_here(connect: CalendarConnectService,
                                                                     fake_google: FakeGoogle, db: Database,
                                                                     seeded: Seed) -> None:
    _connect_ada(connect, fake_google)
    fake_google.fail_next("POST /revoke", 503)

    result = connect.disconnect(ADA_ACTOR, channel_id=None, team_id=seeded.team_id)

    assert (result.was_connected, result.revoked) == (True, False)
    assert _connection(db) is None


def test_disconnecting_with_unreadable_tokens_deletes_without_asking_google(
    db: Database, clock: MovableClock, fake_google: FakeGoogle, connect: CalendarConnectService, settings: Settings,
    seeded: Seed,
) -> None:
    _connect_ada(connect, fake_google)
    new_key = settings.model_copy(update={"secret_key": SecretStr("a-new-secret-key")})
    rekeyed = CalendarAccess(db, clock, google_setup(new_key))
    after_key_change = CalendarConnectService(db, clock, rekeyed, b"a-new-secret-key")

    result = after_key_change.disconnect(ADA_ACTOR, channel_id=CHANNEL)

    assert (result.was_connected, result.revoked) == (True, False)
    assert fake_google.calls_to("POST /revoke") == [] and _connection(db) is None


def test_disconnecting_when_not_connected_says_so(
    connect: CalendarConnectService, fake_google: FakeGoogle, seeded: Seed,
) -> None:
    result = connect.disconnect(ADA_ACTOR, channel_id=CHANNEL)

    assert (result.was_connected, result.revoked) == (False, False)
    assert fake_google.calls == []


# ---------------------------------------------------------------- who is connected


def test_calendar_states_name_each_hosts_connection_for_teammates_only(
    connect: CalendarConnectService, access: CalendarAccess, fake_google: FakeGoogle, db: Database, clock: MovableClock,
    seeded: Seed,
) -> None:
    hosts = [ADA, BO, OUTSIDER]
    assert connect.calendar_states(ADA_ACTOR, team_id=seeded.team_id, slack_user_ids=hosts) == dict.fromkeys(hosts)

    _connect_ada(connect, fake_google)
    assert connect.calendar_states(ADA_ACTOR, team_id=seeded.team_id, slack_user_ids=hosts) == {
        ADA: ConnectionStatus.ACTIVE, BO: None, OUTSIDER: None}
    assert connect.study_calendar_states(Actor.slack_user(WORKSPACE, BO), study_id=seeded.study_id,
                                         slack_user_ids=[ADA]) == {ADA: ConnectionStatus.ACTIVE}

    connection = _connection(db)
    assert connection is not None
    with db.transaction() as session:
        access.refused(session, connection.id, "revoked", clock())
    assert connect.calendar_states(ADA_ACTOR, team_id=seeded.team_id, slack_user_ids=[ADA]) == {
        ADA: ConnectionStatus.NEEDS_RECONNECT}

    # Someone not on the team, or a team that isn't there, learns nothing.
    assert connect.calendar_states(Actor.slack_user(WORKSPACE, OUTSIDER), team_id=seeded.team_id,
                                   slack_user_ids=[ADA]) == {ADA: None}
    assert connect.calendar_states(ADA_ACTOR, team_id=None, slack_user_ids=[ADA]) == {ADA: None}
    assert connect.calendar_states(ADA_ACTOR, team_id=seeded.team_id + 100, slack_user_ids=[ADA]) == {ADA: None}
