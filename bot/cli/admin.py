"""Admin subcommands: teams, studies, participants and interviews from the shell."""

from datetime import datetime
from pathlib import Path

import click

from bot.cli.output import emit, json_option
from bot.cli.runtime import Runtime, pass_runtime
from bot.domain import Actor, ListTab
from bot.services.errors import InvalidInput
from bot.services.invitations import parse_csv

CLI_ACTOR = Actor.system("cli")


@click.group()
def team() -> None:
    """Research teams and their members (Slack user IDs)."""


@team.command("create")
@click.argument("name")
@click.option("--member", "members", multiple=True, required=True, metavar="U…", help="Slack user ID; repeat for more. The first one administers the team.")
@click.option("--workspace", metavar="T…", help="Slack workspace ID. Default: asked from Slack with SLACK_BOT_TOKEN.")
@json_option
@pass_runtime
def team_create(rt: Runtime, name: str, members: tuple[str, ...], workspace: str | None, as_json: bool) -> None:
    """Create a research team."""
    info = rt.services.teams.create(name, workspace or rt.workspace_id(), list(members))
    rt.remember_profiles(info.slack_workspace_id, list(info.member_slack_user_ids))
    emit(info, f"Created team {info.id} {info.name!r} with {len(info.member_slack_user_ids)} member(s).", as_json=as_json)


@team.command("add-member")
@click.argument("team_ref", metavar="TEAM")
@click.argument("members", nargs=-1, required=True, metavar="U…")
@json_option
@pass_runtime
def team_add_member(rt: Runtime, team_ref: str, members: tuple[str, ...], as_json: bool) -> None:
    """Add members to TEAM (its ID or name)."""
    info = rt.services.teams.add_members(team_ref, list(members))
    rt.remember_profiles(info.slack_workspace_id, list(members))  # only the people named here
    emit(info, f"Team {info.id} {info.name!r} now has {len(info.member_slack_user_ids)} member(s): {', '.join(info.member_slack_user_ids)}.", as_json=as_json)


@team.command("list")
@json_option
@pass_runtime
def team_list(rt: Runtime, as_json: bool) -> None:
    """List research teams."""
    teams = rt.services.teams.list()
    lines = [f"{t.id}\t{t.name}\t{t.slack_workspace_id}\t{', '.join(t.member_slack_user_ids)}" for t in teams]
    emit(teams, "\n".join(lines) or "No teams yet.", as_json=as_json)


@click.group()
def study() -> None:
    """Studies, each bound to one Slack channel."""


@study.command("create")
@click.option("--team", "team_ref", required=True, help="Team ID or name.")
@click.option("--name", required=True)
@click.option("--channel", required=True, metavar="C…", help="The study's Slack channel ID.")
@click.option("--timezone", required=True, help="IANA zone of the study's availability, e.g. Europe/Berlin.")
@click.option("--duration", type=int, required=True, help="Session length in minutes.")
@click.option("--host", "hosts", multiple=True, required=True, metavar="U…", help="A team member who hosts; repeat for more.")
@click.option("--session-name", help="Default: '<study name> interview'.")
@click.option("--participant-limit", type=int, default=1, show_default=True, help="Participants per slot (more than 1 = group slots).")
@json_option
@pass_runtime
def study_create(rt: Runtime, team_ref: str, name: str, channel: str, timezone: str, duration: int, hosts: tuple[str, ...], session_name: str | None, participant_limit: int, as_json: bool) -> None:
    """Create a study bound to a Slack channel."""
    info = rt.services.studies.create(
        team_ref=team_ref, name=name, channel_id=channel, timezone=timezone,
        duration_minutes=duration, host_ids=list(hosts), session_name=session_name,
        participant_limit=participant_limit,
    )
    emit(info, f"Created study {info.id} {info.name!r} in channel {info.slack_channel_id}. Type /interviews there.", as_json=as_json)


@study.command("set-meeting-link")
@click.option("--study", "study_ref", required=True, help="Study ID, name or channel ID.")
@click.option("--host", required=True, metavar="U…")
@click.option("--url", required=True, help="The host's meeting room, e.g. a Zoom or Meet link.")
@click.option("--password", help="Meeting password, if the room has one.")
@json_option
@pass_runtime
def study_set_meeting_link(rt: Runtime, study_ref: str, host: str, url: str, password: str | None, as_json: bool) -> None:
    """Set the meeting link a host uses for a study's new interviews."""
    info = rt.services.studies.set_host_conferencing(study_ref, host, url, password)
    emit(info, f"New interviews in {info.name!r} with {host} will use {url}.", as_json=as_json)


@study.command("list")
@json_option
@pass_runtime
def study_list(rt: Runtime, as_json: bool) -> None:
    """List studies."""
    studies = rt.services.studies.list()
    lines = [f"{s.id}\t{s.name}\tchannel {s.slack_channel_id}\t{s.timezone}\t{s.duration_minutes} min\thosts {', '.join(s.host_slack_user_ids)}" for s in studies]
    emit(studies, "\n".join(lines) or "No studies yet.", as_json=as_json)


@click.group()
def participant() -> None:
    """Participants of a study."""


@participant.command("add")
@click.option("--study", "study_ref", required=True, help="Study ID, name or channel ID.")
@click.option("--email", required=True)
@click.option("--name", help="Default: the part of the email before the @.")
@json_option
@pass_runtime
def participant_add(rt: Runtime, study_ref: str, email: str, name: str | None, as_json: bool) -> None:
    """Add a participant to a study."""
    info = rt.services.participants.add(study_ref, email, name)
    emit(info, f"Added participant {info.id} {info.name} <{info.email}>.", as_json=as_json)


@participant.command("list")
@click.option("--study", "study_ref", required=True)
@json_option
@pass_runtime
def participant_list(rt: Runtime, study_ref: str, as_json: bool) -> None:
    """List a study's participants."""
    people = rt.services.participants.list(study_ref)
    lines = [f"{p.id}\t{p.name}\t{p.email}\t{p.status.value}" for p in people]
    emit(people, "\n".join(lines) or "No participants yet.", as_json=as_json)


@participant.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--study", "study_ref", required=True, help="Study ID, name or channel ID.")
@click.option("--send-email", is_flag=True, help="Email each new participant their personal scheduling link.")
@json_option
@pass_runtime
def participant_import(rt: Runtime, csv_file: Path, study_ref: str, send_email: bool, as_json: bool) -> None:
    """Add participants from a CSV file with an 'email' and optionally a 'name' column."""
    people, bad = parse_csv(csv_file.read_text(encoding="utf-8-sig"))
    result = rt.services.invitations.invite(actor=CLI_ACTOR, people=people, bad_lines=bad, send_email=send_email, study_ref=study_ref)
    lines = [f"{result.study_name}: {len(result.added)} added, {len(result.already_in_study)} already in the study, {result.emailed} emailed."]
    lines += [f"  line {b.line}: {b.text}: {b.reason}" for b in result.bad_lines]
    emit(result, "\n".join(lines), as_json=as_json)


@participant.command("link")
@click.option("--study", "study_ref", required=True)
@click.option("--email", required=True)
@json_option
@pass_runtime
def participant_link(rt: Runtime, study_ref: str, email: str, as_json: bool) -> None:
    """Print a participant's personal scheduling link."""
    name, url = rt.services.participants.link_by_email(study_ref, email)
    emit({"name": name, "email": email, "scheduling_url": url}, f"{name}: {url}", as_json=as_json)


@participant.command("answers")
@click.option("--study", "study_ref", required=True, help="Study ID, name or channel ID.")
@click.option("--email", required=True, help="The participant's email (or their ID).")
@json_option
@pass_runtime
def participant_answers(rt: Runtime, study_ref: str, email: str, as_json: bool) -> None:
    """Print a participant's screener answers, with each question as it was asked."""
    found = rt.services.screener.responses(email, study_ref, CLI_ACTOR)
    verdict = {None: "not answered yet", True: "qualified", False: "not qualified"}[found.qualified]
    head = f"{found.name} <{found.email}> · {verdict}"
    lines = [f"{a.question}\t{a.answer}" for a in found.answers]
    emit(found, "\n".join([head, *lines]), as_json=as_json)


@participant.command("new-link")
@click.option("--study", "study_ref", required=True)
@click.option("--email", required=True)
@json_option
@pass_runtime
def participant_new_link(rt: Runtime, study_ref: str, email: str, as_json: bool) -> None:
    """Revoke a participant's scheduling link and print their new one (the old one stops working)."""
    name, url = rt.services.participants.new_link(study_ref, email)
    emit({"name": name, "email": email, "scheduling_url": url}, f"{name}'s old link no longer works. New link: {url}", as_json=as_json)


@click.group()
def interview() -> None:
    """Interviews: book on a participant's behalf, list."""


def _parse_start(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 8601 time such as 2026-03-03T10:00+01:00.") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{value!r} has no UTC offset; add one, e.g. 2026-03-03T10:00+01:00 or ...Z.")
    return moment


@interview.command("book")
@click.option("--study", "study_ref", required=True, help="Study ID, name or channel ID.")
@click.option("--participant", "email", required=True, help="The participant's email.")
@click.option("--start", required=True, help="ISO 8601 with offset, e.g. 2026-03-03T10:00+01:00.")
@click.option("--host", required=True, metavar="U…")
@click.option("--override-availability", is_flag=True, help="Book even outside the study's availability windows.")
@json_option
@pass_runtime
def interview_book(rt: Runtime, study_ref: str, email: str, start: str, host: str, override_availability: bool, as_json: bool) -> None:
    """Book an interview on behalf of a participant."""
    result = rt.services.booking.book(
        study_ref=study_ref, participant_email=email, starts_at=_parse_start(start),
        host_id=host, actor=CLI_ACTOR, override_availability=override_availability,
    )
    emit(result, f"Booked interview {result.interview_id}: {result.participant_email} with {result.host_slack_user_id}, {result.starts_at:%Y-%m-%d %H:%M}–{result.ends_at:%H:%M} UTC.", as_json=as_json)


@interview.command("list")
@click.option("--study", "study_ref", required=True, help="Study ID, name or channel ID.")
@click.option("--past", is_flag=True, help="Past interviews instead of upcoming ones.")
@json_option
@pass_runtime
def interview_list(rt: Runtime, study_ref: str, past: bool, as_json: bool) -> None:
    """The first page of a study's upcoming (or past) interviews, as /interviews shows it."""
    study_id = rt.services.studies.get(study_ref).id
    page = rt.services.interviews.list_page(actor=CLI_ACTOR, tab=ListTab.PAST if past else ListTab.UPCOMING, study_id=study_id)
    lines = [
        f"{i.id}\t{i.starts_at:%Y-%m-%d %H:%M} UTC\t{i.duration_minutes} min\t{i.status.value}\t"
        + ", ".join(f"{a.name} ({a.role.value}, {a.invite_status.value}{', confirmed' if a.attendance_confirmed else ''})" for a in i.attendees)
        for i in page.items
    ]
    header = f"{page.study.name}: {page.upcoming_count} upcoming, {page.past_count} past"
    emit(page, "\n".join([header, *lines]), as_json=as_json)


ADMIN_GROUPS = (team, study, participant, interview)
