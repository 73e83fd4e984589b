"""Hosts connect and disconnect their Google Calendar (Google's OAuth flow for web servers).

``/interviews connect`` offers a link to Google's consent page. Its ``state`` names the team
member and is signed (``consent_state.py`` makes and checks it). It expires after 15 minutes and
works once: it carries a fingerprint of the member's connection as it was when the link was made
(``fingerprint`` here), and storing a grant changes that fingerprint, so a second callback with
the same state is refused. The callback exchanges the code, checks that every
scope was granted and stores the grant sealed (``CalendarAccess.store_grant``). Disconnecting
stops the push channel, revokes the grant at Google and deletes the connection (its busy blocks
go with it). Google is never called inside a transaction.

A connection belongs to a team member, that is a person on one research team. The team is the
one of the study in the channel where the command was typed, or else the person's only team
that has a study.
"""

import hashlib
import hmac
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor
from bot.integrations.google_values import (
    GoogleCalendarError,
    GoogleRejected,
    GoogleUnavailable,
    Grant,
    WatchChannel,
)
from bot.integrations.token_crypto import TokenUnreadable
from bot.services.access import require_team_member
from bot.services.calendar_access import CalendarAccess, GoogleSetup
from bot.services.consent_state import STATE_LIFETIME, ConnectLinkInvalid, ConsentState, StateSigner
from bot.services.errors import Conflict, DomainError, InvalidInput, NotAllowed
from storage import outbox
from storage.db import Database
from storage.enums import ConnectionStatus, OutboxKind
from storage.models import CalendarConnection, ResearchTeam, Study, TeamMember
from storage.queries import study_by_channel, team_member

log = logging.getLogger(__name__)

# What Google's consent screen calls each scope we ask for, to name an unticked one.
SCOPE_NAMES = {
    "https://www.googleapis.com/auth/calendar.events": "View and edit events on your calendars",
    "https://www.googleapis.com/auth/calendar.freebusy": "See your free/busy times",
}

_NO_CONNECTION = "0" * 16  # the fingerprint of a member who has no connection


class GoogleNotConfigured(DomainError):
    """No GOOGLE_CLIENT_ID/SECRET: the message tells an admin what to set."""

    def __init__(self) -> None:
        super().__init__(
            "Google Calendar isn't set up on this Interview Desk yet, so invitations go out by "
            "email. To turn it on, an admin creates a Google OAuth client (type “Web application”, "
            "redirect URI `PUBLIC_BASE_URL/google/oauth/callback`), sets `GOOGLE_CLIENT_ID` and "
            "`GOOGLE_CLIENT_SECRET`, and restarts `interview-desk serve`."
        )


class ConnectLinkUsed(Conflict):
    """A grant was stored since the link was made (by this link or a newer one)."""

    def __init__(self) -> None:
        super().__init__(
            "This connection link was already used. If you just connected, you're all set: "
            "`/interviews connect` in Slack shows whether your calendar is connected."
        )


class ScopesNotGranted(DomainError):
    """The host unticked permissions on Google's consent screen: nothing was stored."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(
            "Interview Desk needs every permission it asks for, and some were left unticked, so "
            "your calendar was not connected. Type `/interviews connect` in Slack again and "
            "leave them all ticked."
        )
        self.missing = missing

    @property
    def named(self) -> tuple[tuple[str, str], ...]:
        """(what the consent screen calls it, the scope) for each permission left unticked."""
        return tuple((SCOPE_NAMES.get(scope, scope), scope) for scope in self.missing)


class GoogleDidNotAnswer(DomainError):
    """Google's token endpoint was unreachable or failed: nothing was stored."""

    def __init__(self) -> None:
        super().__init__(
            "Google could not be reached to finish connecting, so nothing was saved. "
            "Please type `/interviews connect` in Slack again in a minute."
        )


class GoogleRefusedCode(DomainError):
    """Google's token endpoint refused the code: spent (``code_spent``) or our client is wrong."""

    def __init__(self, reason: str | None) -> None:
        self.code_spent = reason == "invalid_grant"
        if self.code_spent:
            message = ("Google did not accept this sign-in: it was already used or has expired. "
                       "Type `/interviews connect` in Slack for a new link.")
        else:
            message = ("Google refused to connect Interview Desk, so nothing was saved. Please ask "
                       "your Interview Desk admin to check the Google OAuth client "
                       f"({reason or 'no reason given'}).")
        super().__init__(message)


def fingerprint(connection: CalendarConnection | None) -> str:
    """Changes whenever a grant is stored: sealing is randomized, so even the same refresh token
    seals differently. Access-token refreshes leave it alone, so a link stays good meanwhile."""
    if connection is None:
        return _NO_CONNECTION
    return hashlib.sha256(connection.refresh_token.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ConnectOffer:
    """What ``/interviews connect`` shows: the member's connection and a fresh consent link."""

    team_id: int
    team_name: str
    status: ConnectionStatus | None  # None: not connected
    problem: str | None  # why Google refused the grant, when it needs reconnecting
    consent_url: str
    expires_at: datetime


@dataclass(frozen=True)
class Connected:
    """A grant was stored for this person's membership of this team."""

    slack_user_id: str
    team_name: str
    reconnected: bool


@dataclass(frozen=True)
class Disconnection:
    """What disconnecting did."""

    team_id: int
    team_name: str
    was_connected: bool
    revoked: bool  # Google confirmed that the grant is gone


class CalendarConnectService:
    """Connect, disconnect, and who is connected; ``secret_key`` is SECRET_KEY's bytes."""

    def __init__(self, db: Database, clock: Clock, calendars: CalendarAccess, secret_key: bytes) -> None:
        self.db = db
        self.clock = clock
        self.calendars = calendars
        self.signer = StateSigner(secret_key)

    # ------------------------------------------------------------------ connect

    def offer(self, actor: Actor, *, channel_id: str | None, team_id: int | None = None) -> ConnectOffer:
        """The actor's connection and a consent link for it (``GoogleNotConfigured`` without Google)."""
        google = self._google()
        with self.db.transaction() as session:
            member = self._member(session, actor, channel_id, team_id, command="connect")
            connection = self.calendars.connection_of(session, member.id)
            expires_at = self.clock() + STATE_LIFETIME
            state = self.signer.sign(member.id, expires_at, fingerprint(connection))
            url = google.app.authorization_url(redirect_uri=google.redirect_uri, state=state, login_hint=member.email)
            return ConnectOffer(
                team_id=member.team_id, team_name=member.team.name,
                status=connection.status if connection else None,
                problem=connection.problem if connection else None,
                consent_url=url, expires_at=expires_at,
            )

    def complete(self, *, code: str, state: str) -> Connected:
        """Google's redirect back: check the state, trade the code, store the grant sealed."""
        google = self._google()
        consent = self.signer.verify(state, self.clock())
        with self.db.transaction() as session:
            self._unused(session, consent)  # refused before the code is spent at Google
        try:
            grant = google.app.exchange_code(code, redirect_uri=google.redirect_uri)
        except GoogleUnavailable:
            raise GoogleDidNotAnswer() from None
        except GoogleRejected as error:
            raise GoogleRefusedCode(error.reason) from None
        missing = grant.missing_scopes(google.app.scopes)
        if missing:
            raise ScopesNotGranted(missing)
        try:
            return self._store(consent, grant)
        except IntegrityError:  # PostgreSQL: a twin callback inserted the connection first
            raise ConnectLinkUsed() from None

    def _store(self, consent: ConsentState, grant: Grant) -> Connected:
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            member, before = self._unused(session, consent, lock=True)
            connection = self.calendars.store_grant(session, member, grant, now)
            _tell_connected(session, member, fingerprint(connection), reconnected=before is not None, now=now)
            return Connected(member.slack_user_id, member.team.name, reconnected=before is not None)

    def _unused(
        self, session: Session, consent: ConsentState, *, lock: bool = False,
    ) -> tuple[TeamMember, CalendarConnection | None]:
        """The state's member and connection, if the state was not used (nor overtaken) since."""
        # Locking the member, not the connection: with no connection yet there is no row to lock,
        # and twin callbacks would both find none and both store their grant.
        member = session.get(TeamMember, consent.member_id, with_for_update={"key_share": True} if lock else None)
        if member is None:
            raise ConnectLinkInvalid("You are no longer on the research team this link was for.")
        connection = self.calendars.connection_of(session, member.id)
        if not hmac.compare_digest(fingerprint(connection), consent.fingerprint):
            raise ConnectLinkUsed()
        return member, connection

    # ------------------------------------------------------------------ disconnect

    def disconnect(self, actor: Actor, *, channel_id: str | None, team_id: int | None = None) -> Disconnection:
        """Stop the push channel, revoke the grant at Google and delete the connection.

        Google unreachable (or the tokens unreadable) still deletes here; ``revoked`` then says
        Google did not confirm. Events already in the calendar stay there.
        """
        with self.db.transaction() as session:
            member = self._member(session, actor, channel_id, team_id, command="disconnect")
            team = (member.team_id, member.team.name)
            connection = self.calendars.connection_of(session, member.id)
            if connection is None:
                return Disconnection(*team, was_connected=False, revoked=False)
            connection_id, channel = connection.id, _watch_channel(connection)
            grant = self._opened(connection)
        revoked = self._end_at_google(grant, channel)
        with self.db.transaction(write_lock=True) as session:
            connection = session.get(CalendarConnection, connection_id, with_for_update=True)
            if connection is not None:
                self.calendars.forget(session, connection, self.clock())
        return Disconnection(*team, was_connected=True, revoked=revoked)

    def _opened(self, connection: CalendarConnection) -> Grant | None:
        if not self.calendars.configured:
            return None
        try:
            return self.calendars.grant(connection)
        except TokenUnreadable:
            log.warning("calendar connection %s: tokens unreadable, cannot revoke them", connection.id)
            return None

    def _end_at_google(self, grant: Grant | None, channel: WatchChannel | None) -> bool:
        google = self.calendars.google
        if grant is None or google is None:
            return False
        if channel is not None:
            try:
                google.app.calendar(grant).stop(channel)
            except GoogleCalendarError as error:  # it ends with the grant, or expires by itself
                log.info("could not stop push channel %s: %s", channel.id, error)
        try:
            google.app.revoke(grant.refresh_token)
        except GoogleCalendarError as error:
            log.warning("could not revoke a Google grant: %s", error)
            return False
        return True

    # ------------------------------------------------------------------ who is connected

    def calendar_states(
        self, actor: Actor, *, team_id: int | None, slack_user_ids: Collection[str],
    ) -> dict[str, ConnectionStatus | None] | None:
        """Each person's connection on a team (None: not connected), for a teammate to see;
        None altogether when Google is not configured (nothing to show)."""
        if not self.calendars.configured:
            return None
        users = list(dict.fromkeys(slack_user_ids))
        states: dict[str, ConnectionStatus | None] = dict.fromkeys(users)
        if team_id is None or not users:
            return states
        with self.db.transaction() as session:
            team = session.get(ResearchTeam, team_id)
            if (team is None or team.slack_workspace_id != actor.slack_workspace_id
                    or team_member(session, team_id, actor.slack_user_id or "") is None):
                return states
            rows = session.execute(
                select(TeamMember.slack_user_id, CalendarConnection.status)
                .join(CalendarConnection, CalendarConnection.member_id == TeamMember.id)
                .where(TeamMember.team_id == team_id, TeamMember.slack_user_id.in_(users))
            )
            states.update({user: status for user, status in rows})
        return states

    def study_calendar_states(
        self, actor: Actor, *, study_id: int, slack_user_ids: Collection[str],
    ) -> dict[str, ConnectionStatus | None] | None:
        """``calendar_states`` on the team of a study (the book modal's host picker)."""
        if not self.calendars.configured:
            return None
        with self.db.transaction() as session:
            team_id = session.scalar(select(Study.team_id).where(Study.id == study_id))
        return self.calendar_states(actor, team_id=team_id, slack_user_ids=slack_user_ids)

    # ------------------------------------------------------------------ helpers

    def _google(self) -> GoogleSetup:
        if self.calendars.google is None:
            raise GoogleNotConfigured()
        return self.calendars.google

    @staticmethod
    def _member(
        session: Session, actor: Actor, channel_id: str | None, team_id: int | None, *, command: str,
    ) -> TeamMember:
        """The actor on the team meant: ``team_id``, else the channel's study's team, else their
        only team with a study."""
        user, workspace = actor.slack_user_id, actor.slack_workspace_id
        if not user or not workspace:
            raise NotAllowed(_NOT_ON_A_TEAM)
        if team_id is not None:
            team = session.get(ResearchTeam, team_id)
            member = team_member(session, team_id, user) if team and team.slack_workspace_id == workspace else None
            if member is None:
                raise NotAllowed(_NOT_ON_A_TEAM)
            return member
        study = study_by_channel(session, workspace, channel_id) if channel_id else None
        if study is not None:
            require_team_member(session, study, actor)
            found = team_member(session, study.team_id, user)
            assert found is not None  # require_team_member checked it
            return found
        members = session.scalars(
            select(TeamMember).join(ResearchTeam)
            .where(ResearchTeam.slack_workspace_id == workspace, TeamMember.slack_user_id == user,
                   exists().where(Study.team_id == ResearchTeam.id))
            .order_by(ResearchTeam.name)
        ).all()
        if not members:
            raise NotAllowed(_NOT_ON_A_TEAM)
        if len(members) > 1:
            names = ", ".join(f"*{m.team.name}*" for m in members)
            raise InvalidInput(
                f"You're on several research teams ({names}), and each has its own calendar "
                f"connection. Type `/interviews {command}` in the channel of a study of the team you mean."
            )
        return members[0]


_NOT_ON_A_TEAM = (
    "Connecting a Google Calendar is for research teams with a study, and you're not on one here "
    "yet. Ask a teammate to add you to their team, or create a study with `/interviews setup` in "
    "its channel."
)


def _escaped(text: str) -> str:
    """Team names are typed by people: keep Slack from reading them as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _watch_channel(connection: CalendarConnection) -> WatchChannel | None:
    if not connection.channel_id or not connection.channel_resource_id or connection.channel_expires_at is None:
        return None
    return WatchChannel(
        id=connection.channel_id, resource_id=connection.channel_resource_id, resource_uri="",
        token=None, expires_at=connection.channel_expires_at,
    )


def _tell_connected(session: Session, member: TeamMember, grant_print: str, *, reconnected: bool, now: datetime) -> None:
    """A direct message to the host, through the outbox; one per grant stored."""
    text = (
        f"✅ Your Google Calendar is {'reconnected' if reconnected else 'connected'} for the "
        f"interviews of *{_escaped(member.team.name)}*. Interviews you host that are booked from now on go "
        "into your calendar, and Google sends the invitations. `/interviews disconnect` removes "
        "Interview Desk's access."
    )
    outbox.enqueue(
        session, key=f"calendar_connected:{member.id}:{grant_print}", kind=OutboxKind.SLACK_POST,
        payload={"channel": member.slack_user_id, "text": text}, now=now,
        ordering_key=f"slack:{member.slack_user_id}",
    )
