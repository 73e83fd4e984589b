"""Inviting participants: parsing pasted lines and CSV, no duplicates, one scheduler email per link."""

import email
import email.policy

import pytest
from sqlalchemy import func, select

from bot.domain import Actor
from bot.integrations.email import SmtpTransport
from bot.jobs.deliverers import EmailDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.services import Services
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.interviews import NoStudyHere
from bot.services.invitations import parse_csv, parse_lines
from storage.db import Database
from storage.enums import OutboxKind
from storage.models import OutboxItem, Participant
from tests.conftest import ADA, CHANNEL, CLI, OUTSIDER, WORKSPACE, MovableClock, Seed
from tests.support.smtp_servers import SmtpServer


def test_parse_lines_accepts_the_usual_shapes_and_names_bad_lines() -> None:
    people, bad = parse_lines("Ava Lind <Ava@Example.com>\nbo@example.com\n\n# a comment\nCy Young, cy@example.com\nnot an email\n")
    assert [(p.line, p.name, p.email) for p in people] == [(1, "Ava Lind", "ava@example.com"), (2, None, "bo@example.com"), (5, "Cy Young", "cy@example.com")]
    assert [(b.line, b.text) for b in bad] == [(6, "not an email")]


def test_parse_csv_needs_an_email_column() -> None:
    people, bad = parse_csv("Name,EMAIL\nAva,ava@example.com\nBo,\n")
    assert [p.email for p in people] == ["ava@example.com"] and [b.line for b in bad] == [3]
    with pytest.raises(InvalidInput, match="'email' column"):
        parse_csv("name,mail\nAva,ava@example.com\n")


def test_invite_adds_new_people_once_and_emails_each_link_once(
    services: Services, seeded: Seed, db: Database, clock: MovableClock, smtp_server: SmtpServer
) -> None:
    people, bad = parse_lines("Ava Lind <ava@example.com>\nnora@example.com\nnope\n")
    member = Actor.slack_user(WORKSPACE, ADA)
    first = services.invitations.invite(actor=member, people=people, bad_lines=bad, send_email=True, workspace_id=WORKSPACE, channel_id=CHANNEL)
    again = services.invitations.invite(actor=member, people=people, bad_lines=bad, send_email=True, workspace_id=WORKSPACE, channel_id=CHANNEL)

    assert (first.added, first.already_in_study, first.emailed, len(first.bad_lines)) == (("ava@example.com",), ("nora@example.com",), 2, 1)
    assert (again.added, again.emailed) == ((), 0)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 3
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 2

    OutboxWorker(db, clock, {OutboxKind.EMAIL: EmailDeliverer(SmtpTransport(smtp_server.host, smtp_server.port, starttls=False))}).drain()
    messages = {m["To"]: m for m in (email.message_from_bytes(r.data, policy=email.policy.default) for r in smtp_server.handler.received)}
    body = messages["Ava Lind <ava@example.com>"].get_body(("plain",)).get_content()
    link = next(word for word in body.split() if "/s/" in word)
    assert services.portal.state(link.rsplit("/", 1)[-1]).participant_name == "Ava Lind"


def test_only_the_team_may_invite_and_only_in_a_study_channel(services: Services, seeded: Seed) -> None:
    people, _ = parse_lines("ava@example.com")
    with pytest.raises(NotAllowed):
        services.invitations.invite(actor=Actor.slack_user(WORKSPACE, OUTSIDER), people=people, bad_lines=[], send_email=False, workspace_id=WORKSPACE, channel_id=CHANNEL)
    with pytest.raises(NoStudyHere):
        services.invitations.invite(actor=CLI, people=people, bad_lines=[], send_email=False, workspace_id=WORKSPACE, channel_id="C0NOSTUDY")


def test_too_many_at_once_is_refused_and_nothing_is_added(services: Services, seeded: Seed, db: Database) -> None:
    people, _ = parse_lines("\n".join(f"p{i}@example.com" for i in range(501)))
    with pytest.raises(InvalidInput, match="at most 500"):
        services.invitations.invite(actor=CLI, people=people, bad_lines=[], send_email=True, study_ref=seeded.study_id)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 2
