"""The waitlist and the offers of freed times, on both databases.

Who is offered a time when an interview is canceled (by the participant or by the team) or a
seat in a group slot frees up, that nothing is offered which the booking page would not book,
and what the emails say, as received by the real SMTP server.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import delete, select

from bot.domain import Actor
from bot.integrations.email import SmtpTransport
from bot.integrations.templates import render_email
from bot.jobs.deliverers import EmailDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.errors import Conflict, NotAllowed
from bot.services.invitations import parse_lines
from bot.services.notifications import when
from bot.services.screener import NotQualified
from bot.services.waitlist import MAX_OFFERS, WaitlistService, unix
from storage.enums import InterviewStatus, OutboxKind, ParticipantStatus, StudyStatus
from storage.models import OutboxItem, Participant, Study, StudyHost, TeamMember
from tests.conftest import ADA, BO, TEST_MAILER, WORKSPACE, MovableClock, Seed, berlin
from tests.support.mail import messages, text_of
from tests.support.smtp_servers import SmtpServer
from tests.web import Link, interviews_at, interviews_of, link_for

ADA_ACTS = Actor.slack_user(WORKSPACE, ADA)
BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
FREED = berlin(7, 10)  # Thursday: two days ahead of the clock, past every notice and cutoff


# ---------------------------------------------------------------- set-up


@pytest.fixture
def waitlist(services: Services) -> WaitlistService:
    return WaitlistService(services.db, services.clock, services.mailer)


def invite(services: Services, study_id: int, *emails: str) -> dict[str, Link]:
    """Invite by email (as the team does from Slack); each person's link, by address."""
    people, bad = parse_lines("\n".join(emails))
    services.invitations.invite(actor=ADA_ACTS, people=people, bad_lines=bad, send_email=True, study_ref=study_id)
    return links(services, study_id, *emails)


def links(services: Services, study_id: int, *emails: str) -> dict[str, Link]:
    ids = {p.email: p.id for p in services.participants.list(study_id)}
    return {email: link_for(services, ids[email]) for email in emails}


def set_study(services: Services, study_id: int, **values: object) -> None:
    with services.db.transaction() as session:
        study = session.get(Study, study_id)
        assert study is not None
        for name, value in values.items():
            setattr(study, name, value)


def set_participant(services: Services, link: Link, **values: object) -> None:
    with services.db.transaction() as session:
        participant = session.get(Participant, link.participant_id)
        assert participant is not None
        for name, value in values.items():
            setattr(participant, name, value)


def offered_to(services: Services) -> list[str]:
    """The addresses offered a freed time so far, in the order they were queued."""
    with services.db.transaction() as session:
        rows = session.scalars(
            select(OutboxItem).where(OutboxItem.idempotency_key.like("opening:%")).order_by(OutboxItem.id)
        ).all()
        return [row.payload["to"][0][1] for row in rows]  # each recipient is [name, address]


def offer_keys(services: Services) -> list[str]:
    with services.db.transaction() as session:
        return list(session.scalars(
            select(OutboxItem.idempotency_key).where(OutboxItem.idempotency_key.like("opening:%")).order_by(OutboxItem.id)
        ))


def deliver(services: Services, clock: MovableClock, smtp: SmtpServer) -> None:
    transport = SmtpTransport(smtp.host, smtp.port, starttls=False, timeout=5)
    worker = OutboxWorker(services.db, clock, {OutboxKind.EMAIL: EmailDeliverer(transport)})
    assert worker.drain().failed == 0


def opening_link(message: EmailMessage) -> str:
    match = re.search(r"^Book this time: (\S+?)\r?$", text_of(message), re.MULTILINE)
    assert match, text_of(message)
    return match.group(1)


# ---------------------------------------------------------------- joining and leaving


def test_joining_is_idempotent_and_leaving_clears_it(
    services: Services, seeded: Seed, waitlist: WaitlistService, clock: MovableClock
) -> None:
    nora = links(services, seeded.study_id, "nora@example.com")["nora@example.com"]
    assert waitlist.state(nora.token).waiting is False

    joined = waitlist.join(nora.token)
    clock.advance(hours=3)
    again = waitlist.join(nora.token)  # a second tap keeps the place of the first

    assert joined.waiting and again.waiting and again.since == joined.since == clock() - timedelta(hours=3)
    assert waitlist.leave(nora.token).waiting is False
    assert waitlist.leave(nora.token).waiting is False
    assert waitlist.state(nora.token).since is None


def test_joining_is_refused_when_booked_closed_or_screened_out(
    services: Services, seeded: Seed, waitlist: WaitlistService
) -> None:
    people = links(services, seeded.study_id, "nora@example.com", "otto@example.com")
    nora, otto = people["nora@example.com"], people["otto@example.com"]
    services.portal.book(nora.token, FREED, BERLIN)
    with pytest.raises(Conflict, match="already have an interview booked"):
        waitlist.join(nora.token)

    set_participant(services, otto, status=ParticipantStatus.NOT_QUALIFIED)
    with pytest.raises(NotQualified):
        waitlist.join(otto.token)

    set_participant(services, otto, status=ParticipantStatus.INVITED)
    set_study(services, seeded.study_id, status=StudyStatus.CLOSED)
    with pytest.raises(NotAllowed, match="closed"):
        waitlist.join(otto.token)
    assert waitlist.state(otto.token).waiting is False


# ---------------------------------------------------------------- who is offered a freed time


def test_a_participants_cancel_offers_the_time_to_the_invited_and_the_waiting(
    services: Services, seeded: Seed, waitlist: WaitlistService, clock: MovableClock, smtp_server: SmtpServer
) -> None:
    people = invite(
        services, seeded.study_id, "pia@example.com", "quinn@example.com", "vera@example.com",
        "rita@example.com", "sam@example.com", "carl@example.com",
    )
    people |= links(services, seeded.study_id, "nora@example.com", "otto@example.com")
    waitlist.join(people["nora@example.com"].token)  # added by the team, never emailed: asked herself
    # Otto was only added, never emailed and never asked: not offered anything.
    set_participant(services, people["quinn@example.com"], timezone=NEW_YORK)
    services.portal.book(people["rita@example.com"].token, berlin(8, 11), BERLIN)  # booked: no need
    set_participant(services, people["sam@example.com"], status=ParticipantStatus.NOT_QUALIFIED)
    waitlist.join(people["carl@example.com"].token)
    set_participant(services, people["carl@example.com"], status=ParticipantStatus.COMPLETED)  # done since
    vera = people["vera@example.com"]
    waitlist.join(vera.token)  # asked once, then booked: she is the one who cancels
    services.portal.book(vera.token, FREED, BERLIN)
    clock.advance(minutes=5)

    services.portal.cancel(vera.token, "Travelling")

    assert offered_to(services) == ["nora@example.com", "pia@example.com", "quinn@example.com"]
    [interview] = interviews_of(services, vera.participant_id)
    assert offer_keys(services) == [
        f"opening:{interview.id}:{unix(FREED)}:{people[p].participant_id}"
        for p in ("nora@example.com", "pia@example.com", "quinn@example.com")
    ]
    deliver(services, clock, smtp_server)
    end = FREED + timedelta(minutes=45)

    [to_nora] = [m for m in messages(smtp_server, to="nora@example.com")]
    nora = people["nora@example.com"]
    # (Python's header folding may double a space next to the encoded en dash: not ours to judge.)
    assert " ".join(str(to_nora["Subject"]).split()) == f"A time opened up: Checkout redesign interview, {when(FREED, end, BERLIN)}"
    assert f"When: {when(FREED, end, BERLIN)}" in text_of(to_nora)
    assert opening_link(to_nora) == f"{TEST_MAILER.links.base_url}{nora.path}/opening?start={unix(FREED)}"
    assert f"Stop these emails: {TEST_MAILER.links.base_url}{nora.page('waitlist')}" in text_of(to_nora)

    [to_quinn] = [m for m in messages(smtp_server, to="quinn@example.com") if "opened up" in m["Subject"]]
    assert f"When: {when(FREED, end, NEW_YORK)}" in text_of(to_quinn)  # her own zone
    assert "Stop these emails" not in text_of(to_quinn)  # never asked: told why she gets it instead
    assert "you were invited to the study and haven't chosen a time yet" in text_of(to_quinn)
    for address in ("otto@example.com", "rita@example.com", "sam@example.com", "carl@example.com"):
        assert not [m for m in messages(smtp_server, to=address) if "opened up" in str(m["Subject"])]
    assert not [m for m in messages(smtp_server, to="vera@example.com") if "opened up" in str(m["Subject"])]


def test_the_team_cancel_offers_the_time_but_does_not_deliver_the_offers_itself(
    services: Services, seeded: Seed, clock: MovableClock
) -> None:
    people = invite(services, seeded.study_id, "pia@example.com", "vera@example.com")
    booked = services.portal.book(people["vera@example.com"].token, FREED, BERLIN)

    canceled = services.outcomes.cancel(booked.interview_id, ADA_ACTS, message="Our host is ill.")

    assert offered_to(services) == ["pia@example.com"]  # not Vera, whose interview it was
    with services.db.transaction() as session:
        offers = session.scalars(select(OutboxItem.id).where(OutboxItem.idempotency_key.like("opening:%"))).all()
        own = session.scalars(select(OutboxItem.idempotency_key).where(OutboxItem.id.in_(canceled.outbox_ids))).all()
    # The teammate's "sending…" view shows the cancel's own emails and card; the tick sends offers.
    assert offers and not set(offers) & set(canceled.outbox_ids)
    assert any(key.startswith("email:team_cancel:") for key in own)

    again = services.outcomes.cancel(booked.interview_id, ADA_ACTS, message="Our host is ill.")
    assert again.changed is False and offered_to(services) == ["pia@example.com"]


def test_a_freed_seat_in_a_group_slot_is_offered_and_booking_it_takes_that_seat(
    services: Services, seeded: Seed, waitlist: WaitlistService
) -> None:
    set_study(services, seeded.study_id, participant_limit=3)
    people = invite(services, seeded.study_id, "pia@example.com", "quinn@example.com")
    people |= links(services, seeded.study_id, "nora@example.com", "otto@example.com")
    for who in ("nora@example.com", "otto@example.com", "pia@example.com"):
        services.portal.book(people[who].token, FREED, BERLIN)
    [group] = interviews_at(services, seeded.study_id, FREED)
    assert group.participants == 3

    services.portal.cancel(people["otto@example.com"].token, None)

    # The group goes on with a seat free: offered to Quinn, not to those in it, nor to Otto.
    assert offered_to(services) == ["quinn@example.com"]
    assert offer_keys(services) == [f"opening:{group.id}:{unix(FREED)}:{people['quinn@example.com'].participant_id}"]
    services.portal.book(people["quinn@example.com"].token, FREED, BERLIN)
    [same] = interviews_at(services, seeded.study_id, FREED)
    assert (same.id, same.participants) == (group.id, 3)

    # Otto thinks again and asks to be told; another seat frees up: now he is offered it.
    waitlist.join(people["otto@example.com"].token)
    services.portal.cancel(people["pia@example.com"].token, None)
    assert offered_to(services) == ["quinn@example.com", "otto@example.com"]


def test_the_same_freed_time_is_offered_to_each_person_once(
    services: Services, seeded: Seed, waitlist: WaitlistService
) -> None:
    set_study(services, seeded.study_id, participant_limit=3)
    people = invite(services, seeded.study_id, "pia@example.com", "quinn@example.com", "vera@example.com")
    for who in ("quinn@example.com", "vera@example.com"):
        services.portal.book(people[who].token, FREED, BERLIN)

    services.portal.cancel(people["quinn@example.com"].token, None)
    services.portal.cancel(people["vera@example.com"].token, None)  # the same time freed again

    assert offered_to(services) == ["pia@example.com"]  # one key per interview, time and person


# ---------------------------------------------------------------- nothing that can't be booked


def host_busy_right_after(services: Services, seeded: Seed, clock: MovableClock) -> None:
    """Ada, now the study's only host with 30 minutes' buffer, gets another study's interview
    right after the freed one: booking allows it, and the freed time no longer fits her."""
    drop_host(services, seeded, BO)
    set_study(services, seeded.study_id, buffer_minutes=30)
    side = services.studies.create(team_ref=seeded.team_id, name="Side study", channel_id="C0SIDE",
                                   timezone=BERLIN, duration_minutes=30, host_ids=[ADA])
    services.participants.add(side.id, "sid@example.com", "Sid")
    services.booking.book(study_ref=side.id, participant_email="sid@example.com",
                          starts_at=FREED + timedelta(minutes=45), host_id=ADA, actor=ADA_ACTS)


def drop_host(services: Services, seeded: Seed, slack_user_id: str) -> None:
    with services.db.transaction() as session:
        member = select(TeamMember.id).where(TeamMember.slack_user_id == slack_user_id)
        session.execute(delete(StudyHost).where(StudyHost.study_id == seeded.study_id, StudyHost.member_id.in_(member)))


def no_thursdays(services: Services, seeded: Seed, clock: MovableClock) -> None:
    set_study(services, seeded.study_id,
              availability=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in (0, 1, 2, 4)])


def too_soon(services: Services, seeded: Seed, clock: MovableClock) -> None:
    clock.advance(hours=36)  # nine hours before it, within the study's day of notice


def already_started(services: Services, seeded: Seed, clock: MovableClock) -> None:
    clock.now = FREED + timedelta(hours=1)


@pytest.mark.parametrize("change", [host_busy_right_after, no_thursdays, too_soon, already_started])
def test_a_time_the_booking_page_would_not_offer_is_offered_to_nobody(
    services: Services, seeded: Seed, clock: MovableClock, change: Callable[[Services, Seed, MovableClock], None]
) -> None:
    people = invite(services, seeded.study_id, "pia@example.com", "vera@example.com")
    booked = services.portal.book(people["vera@example.com"].token, FREED, BERLIN)
    change(services, seeded, clock)

    services.outcomes.cancel(booked.interview_id, ADA_ACTS)

    assert offered_to(services) == []
    assert FREED not in {s.start for s in services.portal.slots(people["pia@example.com"].token)}


def test_the_host_busy_elsewhere_blocks_only_while_busy(services: Services, seeded: Seed) -> None:
    """The control for the busy host: without the other interview, the time is offered."""
    drop_host(services, seeded, BO)
    set_study(services, seeded.study_id, buffer_minutes=30)
    people = invite(services, seeded.study_id, "pia@example.com", "vera@example.com")
    booked = services.portal.book(people["vera@example.com"].token, FREED, BERLIN)

    services.outcomes.cancel(booked.interview_id, ADA_ACTS)

    assert offered_to(services) == ["pia@example.com"]


def test_no_offers_once_the_study_is_closed(services: Services, seeded: Seed, waitlist: WaitlistService) -> None:
    people = invite(services, seeded.study_id, "pia@example.com", "vera@example.com", "walt@example.com")
    waitlist.join(people["pia@example.com"].token)
    by_team = services.portal.book(people["vera@example.com"].token, FREED, BERLIN)
    services.portal.book(people["walt@example.com"].token, berlin(8, 10), BERLIN)
    set_study(services, seeded.study_id, status=StudyStatus.CLOSED)

    services.outcomes.cancel(by_team.interview_id, ADA_ACTS)
    services.portal.cancel(people["walt@example.com"].token, None)

    assert offered_to(services) == []
    assert [i.status for i in interviews_of(services, people["walt@example.com"].participant_id)] == [InterviewStatus.CANCELED]


def test_offers_are_capped_those_who_asked_first_then_the_oldest_invites(
    services: Services, seeded: Seed, waitlist: WaitlistService, clock: MovableClock
) -> None:
    earlier = [f"early{i:02}@example.com" for i in range(30)]
    later = [f"late{i:02}@example.com" for i in range(30)]
    invite(services, seeded.study_id, *earlier)
    clock.advance(hours=1)
    invite(services, seeded.study_id, *later)
    asked = links(services, seeded.study_id, "otto@example.com", "nora@example.com")
    for link in asked.values():  # Otto asks before Nora
        waitlist.join(link.token)
        clock.advance(minutes=1)
    vera = invite(services, seeded.study_id, "vera@example.com")["vera@example.com"]
    booked = services.portal.book(vera.token, FREED, BERLIN)

    services.outcomes.cancel(booked.interview_id, ADA_ACTS)

    offered = offered_to(services)
    assert len(offered) == MAX_OFFERS == 50
    assert offered == ["otto@example.com", "nora@example.com", *earlier, *later[: MAX_OFFERS - 32]]


def test_the_email_says_the_same_in_text_and_html() -> None:
    context = {
        "participant_name": "Zoë Ångström", "study_name": "Checkout <redesign>",
        "when": "Thu 7 March 2030, 10:00–10:45 (Europe/Berlin)",
        "opening_url": "https://desk.example.com/s/tok/opening?start=1899104400",
        "waitlist_url": "https://desk.example.com/s/tok/waitlist",
    }
    email = render_email("slot_opened", **context)
    for value in context.values():
        assert value in email.text
    assert "Checkout &lt;redesign&gt;" in email.html and "Zoë Ångström" in email.html
    assert set(re.findall(r'href="([^"]+)"', email.html)) == {context["opening_url"], context["waitlist_url"]}
    invited_only = render_email("slot_opened", **{**context, "waitlist_url": None})
    assert "waitlist" not in invited_only.text and "waitlist" not in invited_only.html
    assert "None" not in invited_only.text

