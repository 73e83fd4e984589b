"""Changing an interview's time or calendar event, on both databases: reschedule, change host, edit
details — with the updated invites delivered over real SMTP."""

import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.actions import InterviewAction
from bot.domain import Actor
from bot.integrations.templates import render_email
from bot.services import Services
from bot.services.errors import Conflict, InvalidField, NotAllowed
from bot.services.interview_actions import Seen, StaleView
from bot.services.interview_changes import DetailsResult, InterviewChangeService
from storage.db import Database
from storage.enums import (
    ActivityKind,
    AttendeeRole,
    InterviewStatus,
    InviteStatus,
    OutboxKind,
    ParticipantStatus,
)
from storage.models import Interview, Participant, Study, TeamMember
from tests.bot.records import (
    AS_ADA,
    book,
    deliver_emails,
    events_of,
    load_interview,
    notes_of,
    outbox_of,
    participant_id,
)
from tests.conftest import ADA, BO, CLI, OUTSIDER, WORKSPACE, MovableClock, Seed, berlin
from tests.support.mail import invite_attendees, invite_in, messages, text_of
from tests.support.smtp_servers import SmtpServer

AS_BO = Actor.slack_user(WORKSPACE, BO)


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def changes(services: Services) -> InterviewChangeService:
    assert services.booking.notifier is not None
    return InterviewChangeService(services.db, services.clock, services.booking.notifier, services.mailer)


@pytest.fixture
def nora_in_new_york(db: Database, seeded: Seed) -> None:
    with db.transaction() as session:
        session.scalars(select(Participant).where(Participant.email == "nora@example.com")).one().timezone = "America/New_York"


def _seen(interview: Interview) -> Seen:
    return Seen(interview.starts_at, interview.status)


# ---------------------------------------------------------------- reschedule


def test_reschedule_moves_the_event_and_sends_updated_invites_in_each_readers_zone(
    services: Services, changes: InterviewChangeService, seeded: Seed, team_emails: None, nora_in_new_york: None,
    db: Database, clock: MovableClock, smtp_server: SmtpServer,
) -> None:
    interview_id = book(services, seeded)
    with db.transaction() as session:
        nora = next(a for a in session.get(Interview, interview_id).attendees if a.participant_id)
        nora.attendance_confirmed_at, nora.invite_status = clock(), InviteStatus.ACCEPTED
    deliver_emails(services, clock, smtp_server)
    before = load_interview(db, interview_id)
    smtp_server.handler.received.clear()

    result = changes.reschedule(interview_id, AS_ADA, _seen(before), starts_at=berlin(7, 14), reason="Ada is travelling")

    assert result.changed and result.outbox_ids
    after = load_interview(db, interview_id)
    assert after.starts_at == berlin(7, 14) and after.ends_at - after.starts_at == timedelta(minutes=45)
    assert after.ical_uid == before.ical_uid and after.ical_sequence == before.ical_sequence + 1
    nora = next(a for a in after.attendees if a.participant_id)
    assert nora.attendance_confirmed_at is None and nora.invite_status is InviteStatus.AWAITING
    assert nora.participant.status is ParticipantStatus.SCHEDULED
    [event] = events_of(db, interview_id, ActivityKind.RESCHEDULED)
    assert event.actor_slack_user_id == ADA
    assert event.details == {"previous": "2030-03-06 09:00 UTC", "reason": "Ada is travelling", "start": berlin(7, 14).astimezone(UTC).isoformat()}
    assert notes_of(db, interview_id)[-1] == {
        "kind": "rescheduled", "by": ADA, "start": berlin(7, 14).astimezone(UTC).isoformat(),
        "previous": berlin(6, 10).astimezone(UTC).isoformat(), "reason": "Ada is travelling",
    }

    deliver_emails(services, clock, smtp_server)
    [to_nora] = messages(smtp_server, to="nora@example.com")
    [to_ada] = messages(smtp_server, to="ada@example.com")
    assert "Thu 7 March 2030, 08:00–08:45 (America/New_York)" in text_of(to_nora)
    assert "Was: Wed 6 March 2030, 04:00–04:45 (America/New_York)" in text_of(to_nora)
    assert "Reason: Ada is travelling" in text_of(to_nora) and "/manage" in text_of(to_nora)
    assert "Thu 7 March 2030, 14:00–14:45 (Europe/Berlin)" in text_of(to_ada) and "/manage" not in text_of(to_ada)
    assert to_nora["Subject"].startswith("Rescheduled: Checkout redesign")
    for message in (to_nora, to_ada):
        calendar, vevent = invite_in(message)
        assert calendar["METHOD"] == "REQUEST"
        assert str(vevent["UID"]) == before.ical_uid and int(vevent["SEQUENCE"]) == before.ical_sequence + 1
        assert vevent.decoded("DTSTART") == berlin(7, 14)
        assert set(invite_attendees(vevent)) == {"mailto:nora@example.com"}  # the organizer is ORGANIZER, not ATTENDEE
        assert str(vevent["ORGANIZER"]).lower() == "mailto:ada@example.com"
    # The participant's email is on the timeline, by whoever caused it.
    [sent] = events_of(db, interview_id, ActivityKind.EMAIL_SENT)[-1:]
    assert sent.details == {"template": "invite_update", "to": "Nora Quist"} and sent.actor_slack_user_id == ADA


def test_a_move_across_the_clock_change_keeps_the_wall_clock_time_people_chose(
    services: Services, changes: InterviewChangeService, seeded: Seed, team_emails: None, db: Database,
    clock: MovableClock, smtp_server: SmtpServer,
) -> None:
    interview_id = book(services, seeded)  # Wednesday 6 March, 10:00 CET (09:00 UTC)
    deliver_emails(services, clock, smtp_server)
    smtp_server.handler.received.clear()
    changes.reschedule(interview_id, AS_ADA, None, starts_at=berlin(2, 10, month=4))  # after 31 March: CEST
    deliver_emails(services, clock, smtp_server)
    [to_ada] = messages(smtp_server, to="ada@example.com")
    assert "Tue 2 April 2030, 10:00–10:45 (Europe/Berlin)" in text_of(to_ada)
    assert "Was: Wed 6 March 2030, 10:00–10:45 (Europe/Berlin)" in text_of(to_ada)
    _, vevent = invite_in(to_ada)
    assert vevent.decoded("DTSTART") == datetime(2030, 4, 2, 8, 0, tzinfo=UTC)


def test_the_same_time_again_changes_and_sends_nothing(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database,
) -> None:
    interview_id = book(services, seeded)
    seen = _seen(load_interview(db, interview_id))
    first = changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(7, 14))
    items = len(outbox_of(db, interview_id))
    # A double submit carries the old view: the first one moved it, the second finds it done.
    again = changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(7, 14))
    assert first.changed and not again.changed and again.outbox_ids == ()
    assert len(outbox_of(db, interview_id)) == items and load_interview(db, interview_id).ical_sequence == 1
    assert not changes.reschedule(interview_id, AS_ADA, None, starts_at=berlin(7, 14)).changed


def test_two_submits_at_once_move_it_once(
    services: Services, changes: InterviewChangeService, seeded: Seed, team_emails: None, db: Database,
) -> None:
    interview_id = book(services, seeded)
    seen = _seen(load_interview(db, interview_id))
    before = {i.id for i in outbox_of(db, interview_id)}
    ready = threading.Barrier(2)

    def submit(_: int) -> bool:
        ready.wait()
        return changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(7, 14)).changed

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(submit, range(2)))

    assert outcomes == [False, True]
    emails = [i for i in outbox_of(db, interview_id) if i.id not in before and i.kind is OutboxKind.EMAIL]
    assert sorted(i.payload["to"][0] for i in emails) == [["Ada", "ada@example.com"], ["Nora Quist", "nora@example.com"]]
    assert load_interview(db, interview_id).ical_sequence == 1


def test_reschedule_refusals_name_the_problem_and_change_nothing(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database,
) -> None:
    interview_id = book(services, seeded)
    book(services, seeded, "otto@example.com", at=berlin(8, 10))  # Ada is busy on Friday at 10
    seen = _seen(load_interview(db, interview_id))

    with pytest.raises(InvalidField, match="already passed") as past:
        changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(4, 10))
    assert past.value.field == "when"
    with pytest.raises(InvalidField, match="outside the study's availability"):
        changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(7, 20))
    with pytest.raises(InvalidField, match="already has an interview then: Fri 8 March 2030, 10:00–10:45"):
        changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(8, 10, 30))
    # The override covers the study's hours, never a host's other interview.
    with pytest.raises(InvalidField, match="override does not cover"):
        changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(8, 10), override_availability=True)
    with pytest.raises(InvalidField, match="too long") as long_reason:
        changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(7, 14), reason="x" * 1001)
    assert long_reason.value.field == "reason"
    with pytest.raises(NotAllowed):
        changes.reschedule(interview_id, Actor.slack_user(WORKSPACE, OUTSIDER), seen, starts_at=berlin(7, 14))
    assert load_interview(db, interview_id).starts_at == berlin(6, 10) and load_interview(db, interview_id).ical_sequence == 0

    moved = changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(7, 20), override_availability=True)
    assert moved.changed and moved.interview.starts_at == berlin(7, 20)


def test_the_buffer_keeps_the_host_free_around_other_interviews(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database,
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).buffer_minutes = 15
    interview_id = book(services, seeded)
    book(services, seeded, "otto@example.com", at=berlin(8, 10))  # Friday 10:00–10:45
    with pytest.raises(InvalidField, match="15-minute buffer"):
        changes.reschedule(interview_id, AS_ADA, None, starts_at=berlin(8, 10, 50))  # 5 minutes after it ends
    assert changes.reschedule(interview_id, AS_ADA, None, starts_at=berlin(8, 11)).changed


def test_a_completed_interview_is_run_again(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database, clock: MovableClock,
) -> None:
    interview_id = book(services, seeded)
    clock.advance(days=2)
    with db.transaction() as session:
        interview = session.get(Interview, interview_id)
        interview.status, interview.rating, interview.outcome_at = InterviewStatus.COMPLETED, 4, clock()
        nora = next(a for a in interview.attendees if a.participant_id)
        nora.attended, nora.participant.status = True, ParticipantStatus.COMPLETED
    seen = _seen(load_interview(db, interview_id))

    result = changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(12, 10))

    assert result.changed and result.interview.status is InterviewStatus.UPCOMING
    after = load_interview(db, interview_id)
    nora = next(a for a in after.attendees if a.participant_id)
    assert after.rating is None and after.outcome_at is None and nora.attended is None
    assert nora.participant.status is ParticipantStatus.SCHEDULED


def test_rerunning_is_refused_when_the_participant_has_booked_again(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database, clock: MovableClock,
) -> None:
    interview_id = book(services, seeded)
    clock.advance(days=2)
    with db.transaction() as session:
        session.get(Interview, interview_id).status = InterviewStatus.NO_SHOW
    book(services, seeded, at=berlin(12, 10))
    with pytest.raises(Conflict, match="Nora Quist already has another upcoming interview"):
        changes.reschedule(interview_id, AS_ADA, None, starts_at=berlin(13, 10))


def test_stale_and_canceled_interviews_are_not_rescheduled(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database,
) -> None:
    interview_id = book(services, seeded)
    seen = _seen(load_interview(db, interview_id))
    changes.reschedule(interview_id, AS_BO, seen, starts_at=berlin(7, 11))
    with pytest.raises(StaleView) as stale:  # Ada's view still shows Wednesday
        changes.reschedule(interview_id, AS_ADA, seen, starts_at=berlin(7, 15))
    assert stale.value.changed_by is not None and stale.value.changed_by.slack_user_id == BO
    with db.transaction() as session:
        session.get(Interview, interview_id).status = InterviewStatus.CANCELED
    with pytest.raises(Conflict, match="was canceled"):
        changes.reschedule(interview_id, AS_ADA, None, starts_at=berlin(7, 15))


def test_moving_a_group_slot_moves_everyone_in_it(
    services: Services, changes: InterviewChangeService, seeded: Seed, team_emails: None, db: Database,
    clock: MovableClock, smtp_server: SmtpServer,
) -> None:
    with db.transaction() as session:
        session.get(Study, seeded.study_id).participant_limit = 3
    interview_id = book(services, seeded)
    assert book(services, seeded, "otto@example.com") == interview_id
    deliver_emails(services, clock, smtp_server)
    smtp_server.handler.received.clear()

    changes.reschedule(interview_id, AS_ADA, None, starts_at=berlin(7, 14))

    deliver_emails(services, clock, smtp_server)
    assert sorted(str(m["To"]) for m in messages(smtp_server)) == [
        "Ada <ada@example.com>", "Nora Quist <nora@example.com>", "Otto Berg <otto@example.com>",
    ]
    _, vevent = invite_in(messages(smtp_server, to="otto@example.com")[0])
    assert set(invite_attendees(vevent)) == {"mailto:nora@example.com", "mailto:otto@example.com"}
    assert "The interview with Nora Quist and Otto Berg has moved" in text_of(messages(smtp_server, to="ada@example.com")[0])


# ---------------------------------------------------------------- change host


def test_change_host_keeps_the_organizer_and_tells_the_participant_and_new_host(
    services: Services, changes: InterviewChangeService, seeded: Seed, team_emails: None, db: Database,
    clock: MovableClock, smtp_server: SmtpServer,
) -> None:
    services.studies.set_host_conferencing(seeded.study_id, BO, "https://meet.example.com/bo", "b0b")
    interview_id = book(services, seeded)
    deliver_emails(services, clock, smtp_server)
    smtp_server.handler.received.clear()
    before = load_interview(db, interview_id)
    form = changes.form(interview_id, AS_ADA, _seen(before), InterviewAction.CHANGE_HOST)
    assert [(c.slack_user_id, c.has_room) for c in form.host_choices] == [(BO, True)]

    result = changes.change_host(interview_id, AS_ADA, _seen(before), host_id=BO, conferencing_url="https://typed.example.com/x")

    assert result.changed
    after = load_interview(db, interview_id)
    roles = {a.slack_user_id: (a.role, a.is_organizer) for a in after.attendees if a.slack_user_id}
    assert roles == {ADA: (AttendeeRole.GUEST, True), BO: (AttendeeRole.HOST, False)}
    assert after.organizer_member_id == before.organizer_member_id
    # Conferencing is per host: Bo's own room wins over the typed link.
    assert (after.conferencing_url, after.conferencing_password) == ("https://meet.example.com/bo", "b0b")
    assert after.ical_sequence == 1
    [changed] = events_of(db, interview_id, ActivityKind.HOST_CHANGED)
    assert changed.details == {"host": BO, "previous": ADA}
    assert events_of(db, interview_id, ActivityKind.CONFERENCING_UPDATED)[0].details == {"url": "https://meet.example.com/bo"}
    assert notes_of(db, interview_id)[-1] == {"kind": "host_changed", "by": ADA, "host": BO, "previous": ADA}

    deliver_emails(services, clock, smtp_server)
    [to_nora], [to_bo], [to_ada] = (messages(smtp_server, to=f"{n}@example.com") for n in ("nora", "bo", "ada"))
    assert "Your interview now has a new host: Bo." in text_of(to_nora) and "https://meet.example.com/bo" in text_of(to_nora)
    assert "You're now the host" in text_of(to_bo) and "taking over from Ada" in text_of(to_bo)
    assert "Bo now hosts the interview with Nora Quist." in text_of(to_ada)
    for message in (to_nora, to_bo, to_ada):
        calendar, vevent = invite_in(message)
        assert calendar["METHOD"] == "REQUEST" and str(vevent["UID"]) == before.ical_uid and int(vevent["SEQUENCE"]) == 1
        assert str(vevent["ORGANIZER"]).lower() == "mailto:ada@example.com"
        assert set(invite_attendees(vevent)) == {"mailto:nora@example.com", "mailto:bo@example.com"}
        assert str(vevent["LOCATION"]) == "https://meet.example.com/bo"

    again = changes.change_host(interview_id, AS_ADA, _seen(before), host_id=BO)
    assert not again.changed and again.outbox_ids == ()


def test_a_new_host_without_a_room_gets_the_typed_link_and_can_hand_back(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database,
) -> None:
    interview_id = book(services, seeded)
    changes.change_host(interview_id, AS_ADA, None, host_id=BO, conferencing_url="https://typed.example.com/x")
    after = load_interview(db, interview_id)
    assert (after.conferencing_url, after.conferencing_password) == ("https://typed.example.com/x", None)
    # Back to Ada: her organizer row becomes the host again, with her room; Bo stays as a guest.
    changes.change_host(interview_id, AS_BO, None, host_id=ADA, conferencing_url="https://typed.example.com/x")
    back = load_interview(db, interview_id)
    assert {a.slack_user_id: a.role for a in back.attendees if a.slack_user_id} == {ADA: AttendeeRole.HOST, BO: AttendeeRole.GUEST}
    assert back.conferencing_url == "https://meet.example.com/ada" and len(back.attendees) == 3


def test_change_host_refusals(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database, clock: MovableClock,
) -> None:
    interview_id = book(services, seeded)
    book(services, seeded, "otto@example.com", at=berlin(6, 10, 30), host=BO)
    with pytest.raises(InvalidField, match="already has an interview then") as clash:
        changes.change_host(interview_id, AS_ADA, None, host_id=BO)
    assert clash.value.field == "host"
    with pytest.raises(InvalidField, match="who can host"):
        changes.change_host(interview_id, AS_ADA, None, host_id=OUTSIDER)
    with pytest.raises(InvalidField, match="web address") as link:
        changes.change_host(interview_id, AS_ADA, None, host_id=BO, conferencing_url="ftp://x")
    assert link.value.field == "host_link"
    with db.transaction() as session:
        session.scalars(select(TeamMember).where(TeamMember.slack_user_id == BO)).one().can_host = False
    with pytest.raises(InvalidField, match="who can host"):
        changes.change_host(interview_id, AS_ADA, None, host_id=BO)
    with pytest.raises(Conflict, match="Nobody else on the team can host"):
        changes.form(interview_id, AS_ADA, None, InterviewAction.CHANGE_HOST)
    clock.advance(days=2)
    with pytest.raises(Conflict, match="is over"):
        changes.change_host(interview_id, AS_ADA, None, host_id=BO)
    assert load_interview(db, interview_id).ical_sequence == 0


def test_participant_moving_on_the_web_gets_the_new_hosts_free_times(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database, clock: MovableClock,
) -> None:
    clock.now = clock.now.replace(hour=6)
    services.participants.add(seeded.study_id, "pia@example.com", "Pia")
    interview_id = book(services, seeded)
    book(services, seeded, "otto@example.com", at=berlin(8, 10), host=ADA)  # Ada busy Friday 10:00
    book(services, seeded, "pia@example.com", at=berlin(8, 14), host=BO)  # Bo busy Friday 14:00
    token = services.participants.scheduling_link(participant_id(db, "nora@example.com")).rsplit("/", 1)[-1]
    starts = {s.start for s in services.portal.slots(token)}
    assert berlin(8, 14) in starts and berlin(8, 10) not in starts  # Ada hosts: her time is taken

    changes.change_host(interview_id, AS_ADA, None, host_id=BO)

    starts = {s.start for s in services.portal.slots(token)}
    assert berlin(8, 10) in starts and berlin(8, 14) not in starts  # now Bo's calendar counts
    booking = services.portal.reschedule(token, berlin(8, 10), "Europe/Berlin", None)
    moved = load_interview(db, booking.interview_id)
    assert moved.id == interview_id and moved.starts_at == berlin(8, 10)
    assert {a.slack_user_id: a.role for a in moved.attendees if a.slack_user_id} == {ADA: AttendeeRole.GUEST, BO: AttendeeRole.HOST}


# ---------------------------------------------------------------- edit details


def test_edit_details_sends_the_updated_invite_once(
    services: Services, changes: InterviewChangeService, seeded: Seed, team_emails: None, db: Database,
    clock: MovableClock, smtp_server: SmtpServer,
) -> None:
    interview_id = book(services, seeded)
    deliver_emails(services, clock, smtp_server)
    smtp_server.handler.received.clear()

    result = changes.edit_details(interview_id, AS_ADA, None, description="  We look at the new checkout.\nBring a card.  ",
                                  conferencing_url="https://meet.example.com/new", conferencing_password="s3cret")

    assert isinstance(result, DetailsResult) and result.fields == ("description", "meeting link")
    after = load_interview(db, interview_id)
    assert after.description == "We look at the new checkout.\nBring a card." and after.ical_sequence == 1
    assert events_of(db, interview_id, ActivityKind.DETAILS_UPDATED)[0].details == {"fields": ["description", "meeting link"]}
    assert len(events_of(db, interview_id, ActivityKind.CONFERENCING_UPDATED)) == 1
    assert notes_of(db, interview_id)[-1] == {"kind": "details_updated", "by": ADA, "fields": ["description", "meeting link"]}
    deliver_emails(services, clock, smtp_server)
    [to_nora] = messages(smtp_server, to="nora@example.com")
    assert "updated the description and meeting link" in text_of(to_nora) and "Bring a card." in text_of(to_nora)
    _, vevent = invite_in(to_nora)
    assert int(vevent["SEQUENCE"]) == 1 and "Bring a card." in str(vevent["DESCRIPTION"])
    assert str(vevent["LOCATION"]) == "https://meet.example.com/new"
    assert len(messages(smtp_server)) == 2  # Nora and Ada

    same = changes.edit_details(interview_id, AS_ADA, None, description="We look at the new checkout.\nBring a card.",
                                conferencing_url="https://meet.example.com/new", conferencing_password="s3cret")
    assert not same.changed and same.outbox_ids == ()
    cleared = changes.edit_details(interview_id, AS_ADA, None, description="", conferencing_url=None, conferencing_password=None)
    assert cleared.fields == ("description", "meeting link", "password")
    assert load_interview(db, interview_id).conferencing_url is None


def test_edit_details_refuses_a_link_that_is_not_a_web_address(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database,
) -> None:
    interview_id = book(services, seeded)
    for bad in ("javascript:alert(1)", "meet.example.com/x", "ftp://files.example.com"):
        with pytest.raises(InvalidField, match="web address") as error:
            changes.edit_details(interview_id, AS_ADA, None, description=None, conferencing_url=bad, conferencing_password=None)
        assert error.value.field == "link"
    with pytest.raises(InvalidField, match="too long"):
        changes.edit_details(interview_id, AS_ADA, None, description="x" * 3001, conferencing_url=None, conferencing_password=None)
    assert load_interview(db, interview_id).ical_sequence == 0


# ---------------------------------------------------------------- shared


def test_every_change_is_for_the_team_only(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database,
) -> None:
    interview_id = book(services, seeded)
    outsider = Actor.slack_user(WORKSPACE, OUTSIDER)
    calls = [
        lambda: changes.form(interview_id, outsider, None, InterviewAction.EDIT_DETAILS),
        lambda: changes.change_host(interview_id, outsider, None, host_id=BO),
        lambda: changes.edit_details(interview_id, outsider, None, description="x", conferencing_url=None, conferencing_password=None),
        lambda: services.attendee_changes.change_limit(interview_id, outsider, None, limit=3),
    ]
    for call in calls:
        with pytest.raises(NotAllowed, match="Only the research team"):
            call()
    after = load_interview(db, interview_id)
    assert after.ical_sequence == 0 and after.participant_limit == 1 and after.description is None
    assert [e.kind for e in events_of(db, interview_id, ActivityKind.HOST_CHANGED)] == []


def test_cli_changes_are_told_as_an_admins(
    services: Services, changes: InterviewChangeService, seeded: Seed, db: Database,
) -> None:
    interview_id = book(services, seeded)
    changes.edit_details(interview_id, CLI, None, description="From the command line", conferencing_url=None, conferencing_password=None)
    assert notes_of(db, interview_id)[-1]["who"] == "An admin" and "by" not in notes_of(db, interview_id)[-1]


CONTEXTS = {
    "invite_update": {
        "name": "Zoë Ångström", "study_name": "Checkout redesign", "title": "Rescheduled",
        "change": "The research team moved your interview to a new time.", "when": "Thu 7 March 2030, 14:00–14:45 (Europe/Berlin)",
        "previous_when": "Wed 6 March 2030, 10:00–10:45 (Europe/Berlin)", "reason": "Our host is ill",
        "duration_minutes": 45, "meeting_url": "https://meet.example.com/abc", "meeting_password": "4829",
        "description": "We look at <the> new checkout & more.", "manage_url": "https://desk.example.com/s/tok/manage",
    },
    "invite_guest": {
        "name": "Carl", "study_name": "Checkout redesign", "participant_names": "Zoë Ångström",
        "when": "Thu 7 March 2030, 14:00–14:45 (Europe/Berlin)", "duration_minutes": 45,
        "meeting_url": "https://meet.example.com/abc", "meeting_password": "4829", "description": "Notes <b>welcome</b>",
    },
    "host_change_new_host": {
        "name": "Bo", "study_name": "Checkout redesign", "participant_names": "Zoë Ångström", "previous_host": "Ada",
        "when": "Thu 7 March 2030, 14:00–14:45 (Europe/Berlin)", "duration_minutes": 45,
        "meeting_url": "https://meet.example.com/bo", "meeting_password": "b0b",
    },
}


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_emails_say_the_same_in_text_and_html_and_escape_what_people_typed(name: str) -> None:
    context = CONTEXTS[name]
    email = render_email(name, **context)
    assert email.subject and "\n" not in email.subject and email.text.endswith("\n")
    seen = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", email.html.split("<body", 1)[1]).split()))
    for key, value in context.items():
        if key == "title":
            continue
        assert str(value) in email.text, key
        assert str(value) in seen or str(value) in html.unescape(email.html), key
    assert "<b>" not in email.html and "<the>" not in email.html
    optional = {k: None for k in ("previous_when", "reason", "meeting_url", "meeting_password", "description", "manage_url", "previous_host") if k in context}
    bare = render_email(name, **{**context, **optional})
    assert "None" not in bare.text and "None" not in bare.html
    assert all(str(context[k]) not in bare.text for k in optional)

