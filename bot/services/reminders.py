"""Reminder emails before an interview, the warning about unconfirmed attendance, and "Send
reminder" from Slack.

A reminder is owed to an attendee for each of the study's offsets whose due time (start − offset)
has come, if the interview had its current time then (``Interview.timed_at``) and the attendee
was on it (their ``created_at``): a late booking gets only the reminders still ahead, and a
restart after downtime still sends what came due meanwhile. When several are owed at once (after
downtime), only the latest is sent: "24 hours before" is no use an hour before.

Each email's idempotency key names the interview, its start, the offset and the attendee, so
however many servers tick, each reminder is queued once; an interview that moves gets keys of its
own, and the tick drops any reminder still waiting for a time the interview no longer has.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.clock import Clock
from bot.domain import Actor
from bot.integrations.email import Mailbox
from bot.integrations.templates import render_email
from bot.services.errors import Conflict
from bot.services.interview_actions import ActionResult, Seen, load_for_action, result
from bot.services.lifecycle import lock_interviews, seats, start_mark, thread_note
from bot.services.notifications import Mailer, Notifier, attendance_links, when
from storage.db import Database
from storage.enums import ActivityKind, AttendeeRole, InterviewStatus
from storage.models import Attendee, Interview, OutboxItem

# A second click on "Send reminder" within this long sends nothing more.
CLICK_WINDOW = timedelta(minutes=2)
KEY_PREFIX = "reminder:"


@dataclass(frozen=True)
class Owed:
    """One reminder email to queue: who, and for which offset (minutes before the start)."""

    interview: Interview
    attendee: Attendee
    offset: int

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.interview.id}:{start_mark(self.interview)}:{self.offset}:a{self.attendee.id}"


@dataclass(frozen=True)
class ReminderResult(ActionResult):
    """What "Send reminder" did: who was emailed now, who had confirmed already, and who got one
    a moment ago (a double click)."""

    sent_to: tuple[str, ...] = ()
    confirmed: tuple[str, ...] = ()
    just_sent: tuple[str, ...] = ()


def latest_owed(offsets: Iterable[int], start: datetime, since: datetime, now: datetime) -> int | None:
    """The offset of the latest reminder due by ``now`` and not before ``since``, if any."""
    if now >= start:
        return None
    due = [m for m in offsets if since <= start - timedelta(minutes=m) <= now]
    return min(due) if due else None


def _timed_at(interview: Interview) -> datetime:
    return interview.timed_at or interview.created_at


def owed_reminders(interview: Interview, now: datetime) -> list[Owed]:
    """The reminder each participant and host is owed now (see the module's docstring)."""
    if interview.status is not InterviewStatus.UPCOMING:
        return []
    offsets = interview.study.reminder_offsets_minutes or []
    owed = []
    for attendee in interview.attendees:
        if attendee.role is AttendeeRole.GUEST or not attendee.email:
            continue
        since = max(_timed_at(interview), attendee.created_at)
        offset = latest_owed(offsets, interview.starts_at, since, now)
        if offset is not None:
            owed.append(Owed(interview, attendee, offset))
    return owed


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(OutboxItem.idempotency_key).where(OutboxItem.idempotency_key.in_(keys))))


def _names(attendees: Iterable[Attendee]) -> str:
    return ", ".join(a.display_name for a in attendees)


class ReminderService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.mailer = mailer

    # -------------------------------------------------------------- the tick's part

    def send_due(self, interview_ids: Sequence[int]) -> int:
        """Queue the reminders owed now for these interviews; returns how many emails.

        First a plain read finds the interviews with a reminder not queued yet, so the common
        case (all queued already, by this server or another) takes no lock; those are then
        locked and looked at again, so a reschedule committed meanwhile is seen.
        """
        now = self.clock()
        with self.db.transaction() as session:
            found = session.scalars(
                select(Interview).where(Interview.id.in_(interview_ids))
                .options(selectinload(Interview.study), selectinload(Interview.attendees))
            ).all()
            wanted = {o.key: i.id for i in found for o in owed_reminders(i, now)}
            queued_already = _existing_keys(session, list(wanted))
            missing = sorted({i for key, i in wanted.items() if key not in queued_already})
        if not missing:
            return 0
        queued = 0
        with self.db.transaction(write_lock=True) as session:
            # Interviews another server has locked are that server's to remind: several servers
            # ticking at once share the work instead of queueing behind each other. If that
            # server dies, its transaction rolls back, and the next tick's overlap finds them.
            for interview in lock_interviews(session, missing, skip_locked=True):
                queued += self._queue_round(session, interview, owed_reminders(interview, now), now)
        return queued

    def _queue_round(self, session: Session, interview: Interview, owed: Sequence[Owed], now: datetime) -> int:
        """The emails, and one note per offset in the card's thread ("Reminder sent to Nora")."""
        sent: dict[int, list[Attendee]] = {}
        for item in owed:
            if self._email(session, interview, item.attendee, item.key, now, offset=item.offset):
                sent.setdefault(item.offset, []).append(item.attendee)
        for offset, people in sent.items():
            told = [a for a in people if a.role is AttendeeRole.PARTICIPANT] or people
            thread_note(session, interview, now, f"reminder:{start_mark(interview)}:{offset}",
                        {"kind": "reminder_sent", "to": _names(told), "offset_minutes": offset})
        return sum(len(people) for people in sent.values())

    def _email(
        self, session: Session, interview: Interview, attendee: Attendee, key: str, now: datetime, *,
        offset: int, actor: Actor | None = None,
    ) -> bool:
        study = interview.study
        participant = attendee.participant
        timeline = {"template": "reminder", "to": attendee.display_name, "offset": offset}
        if attendee.role is AttendeeRole.PARTICIPANT and participant is not None:
            token = self.mailer.links.token(participant.id, participant.token_nonce or "")
            rendered = render_email(
                "reminder_participant", participant_name=participant.name, study_name=study.name,
                when=when(interview.starts_at, interview.ends_at, participant.timezone or study.timezone),
                duration_minutes=int((interview.ends_at - interview.starts_at).total_seconds() // 60),
                meeting_url=interview.conferencing_url, meeting_password=interview.conferencing_password,
                # Once confirmed, the reminder thanks them instead of asking again.
                confirm_url=None if attendee.attendance_confirmed_at is not None
                else attendance_links(self.mailer.links, token, interview)["confirm_url"],
                manage_url=self.mailer.links.manage_url(token),
            )
        else:
            people = seats(interview)
            rendered = render_email(
                "reminder_host", host_name=attendee.display_name or "there", study_name=study.name,
                participants=_names(people) or "no participants yet",
                when=when(interview.starts_at, interview.ends_at, study.timezone),
                meeting_url=interview.conferencing_url, meeting_password=interview.conferencing_password,
                unconfirmed=_names(p for p in people if p.attendance_confirmed_at is None),
            )
        return self.notifier.queue_email(
            session, key, interview, study, rendered, to=Mailbox(attendee.display_name or "", attendee.email or ""),
            now=now, invite=None, timeline=timeline, timeline_kind=ActivityKind.REMINDER_SENT, actor=actor,
        )

    def warn_unconfirmed(self, interview_ids: Sequence[int]) -> int:
        """Tell the channel, once per interview time, who has not confirmed attendance when the
        study's warning time before the start has come. Returns how many notes were queued."""
        now = self.clock()
        posted = 0
        with self.db.transaction(write_lock=True) as session:
            for interview in lock_interviews(session, interview_ids):
                names = _unconfirmed_when_due(interview, now)
                if names:
                    posted += thread_note(session, interview, now, f"unconfirmed:{start_mark(interview)}",
                                          {"kind": "unconfirmed", "participants": names})
        return posted

    # -------------------------------------------------------------- "Send reminder" in Slack

    def send_now(self, interview_id: int, actor: Actor, seen: Seen | None = None) -> ReminderResult:
        """The participant reminder, now, to everyone on the interview who hasn't confirmed.

        Keyed by the click's two-minute window: a double click (or a teammate's click a moment
        later) finds it queued and sends nothing more.
        """
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = load_for_action(session, interview_id, actor, now, seen)
            if interview.status is not InterviewStatus.UPCOMING:
                raise Conflict(f"This interview is {interview.status.value.replace('_', '-')}, so there is nobody to remind.")
            if interview.starts_at <= now:
                raise Conflict("It has already started, so a reminder would come too late.")
            people = [s for s in seats(interview) if s.email and s.participant is not None]
            if not people:
                raise Conflict("This interview has no participants to remind.")
            confirmed = tuple(s.display_name for s in people if s.attendance_confirmed_at is not None)
            window = int(now.timestamp() // CLICK_WINDOW.total_seconds())
            sent, just = [], []
            for seat in (s for s in people if s.attendance_confirmed_at is None):
                keys = [self._now_key(interview, seat, w) for w in (window - 1, window)]
                if _existing_keys(session, keys):
                    just.append(seat.display_name)
                elif self._email(session, interview, seat, keys[-1], now, offset=_minutes_before(interview, now), actor=actor):
                    sent.append(seat)
            if sent:
                thread_note(session, interview, now, f"reminder_now:{start_mark(interview)}:{window}",
                            {"kind": "reminder_sent", "to": _names(sent), "offset_minutes": _minutes_before(interview, now)})
            done = result(session, interview, now, changed=bool(sent))
            return ReminderResult(done.interview, done.changed, done.outbox_ids,
                                  sent_to=tuple(s.display_name for s in sent), confirmed=confirmed, just_sent=tuple(just))

    @staticmethod
    def _now_key(interview: Interview, attendee: Attendee, window: int) -> str:
        return f"{KEY_PREFIX}{interview.id}:{start_mark(interview)}:now{window}:a{attendee.id}"


NO_LONGER_DUE = "No longer due: the interview moved, started or was canceled."


def stale_reminders(session: Session, items: Sequence[OutboxItem], now: datetime) -> dict[int, str]:
    """The outbox worker's gate for reminders: among claimed items, those no longer due (the
    interview moved, was canceled or has started, or the person left it), checked at the moment
    of delivery, so a reminder queued just before a reschedule never goes out for the old time."""
    reminders = [i for i in items if i.idempotency_key.startswith(KEY_PREFIX)]
    if not reminders:
        return {}
    ids = {r.interview_id for r in reminders if r.interview_id is not None}
    interviews = {
        i.id: i for i in session.scalars(
            select(Interview).where(Interview.id.in_(ids)).options(selectinload(Interview.attendees))
        )
    } if ids else {}
    return {
        r.id: NO_LONGER_DUE for r in reminders
        if not _still_due(r.idempotency_key, interviews.get(r.interview_id or 0), now)
    }


def _minutes_before(interview: Interview, now: datetime) -> int:
    """How long before the start, as people say it: whole hours from two hours on."""
    minutes = int((interview.starts_at - now).total_seconds() // 60)
    return round(minutes / 60) * 60 if minutes >= 120 else minutes


def _still_due(key: str, interview: Interview | None, now: datetime) -> bool:
    """``reminder:{interview}:{start}:{offset or now…}:a{attendee}`` still fits the interview,
    and it has not started (a reminder after the start is no use)."""
    parts = key.split(":")
    if interview is None or len(parts) != 5 or interview.status is not InterviewStatus.UPCOMING:
        return False
    if interview.starts_at <= now:
        return False
    start, attendee = parts[2], parts[4].removeprefix("a")
    return start == str(start_mark(interview)) and any(str(a.id) == attendee for a in interview.attendees)


def _unconfirmed_when_due(interview: Interview, now: datetime) -> list[str]:
    """Participants not confirmed, if the study's warning is due now for this interview time."""
    hours = interview.study.unconfirmed_warning_hours
    if interview.status is not InterviewStatus.UPCOMING or not hours:
        return []
    due = interview.starts_at - timedelta(hours=hours)
    if not _timed_at(interview) <= due <= now < interview.starts_at:
        return []
    return [s.display_name for s in seats(interview) if s.attendance_confirmed_at is None and s.created_at <= due]

