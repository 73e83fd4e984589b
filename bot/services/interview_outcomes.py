"""How an interview ended: marked completed, marked no-show, or canceled by the research team.

Each change follows the pattern of every interview action (``load_for_action`` → check → change
→ timeline → side effects → ``result``). A repeat of a change already made — a double click, a
Slack retry, or a teammate who did the same a moment earlier — changes nothing, sends nothing,
and says who made it (``OutcomeResult.already_by``) instead of explaining a "stale view".
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain import Actor, InterviewSummary
from bot.integrations.email import Mailbox
from bot.integrations.templates import render_email
from bot.services import activity, notifications, waitlist
from bot.services.errors import Conflict, InvalidInput
from bot.services.interview_actions import (
    ActionResult,
    ChangedBy,
    Seen,
    StaleView,
    load_for_action,
    result,
)
from bot.services.interviews import summary
from bot.services.notifications import Mailer, Notifier, invite_for, when
from storage import queries
from storage.db import Database
from storage.enums import (
    ActivityKind,
    AttendeeRole,
    InterviewStatus,
    ParticipantStatus,
    StudyStatus,
)
from storage.models import ActivityEvent, Attendee, Interview

MAX_MESSAGE = 1000

NOT_STARTED = "It hasn't started yet; cancel or reschedule it instead."
WAS_CANCELED = "This interview was canceled, so it has no outcome to mark. If it took place after all, book it again with `/interviews book`."

_OUTCOME_KINDS = (ActivityKind.COMPLETED, ActivityKind.NO_SHOW, ActivityKind.CANCELED)


@dataclass(frozen=True)
class OutcomeForm:
    """What an outcome dialog shows: the interview as it is now. ``already``: the outcome asked
    for is already so (a repeated click), so there is nothing to ask; ``already_by`` did it."""

    interview: InterviewSummary
    can_rebook: bool = True  # the study still books, so participants can be offered a new time
    already: bool = False
    already_by: ChangedBy | None = None

    @property
    def group(self) -> bool:
        return is_group(self.interview)


def is_group(interview: InterviewSummary) -> bool:
    """A group slot (even with one seat taken so far): marks are per participant."""
    return interview.is_group or len(interview.participants) > 1


@dataclass(frozen=True)
class OutcomeResult(ActionResult):
    """An ``ActionResult``; when nothing changed because it was already so, who made it so."""

    already_by: ChangedBy | None = None


class InterviewOutcomeService:
    def __init__(self, db: Database, clock: Clock, notifier: Notifier, mailer: Mailer) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.mailer = mailer

    # -------------------------------------------------------------- forms

    def cancel_form(self, interview_id: int, actor: Actor, seen: Seen | None = None) -> OutcomeForm:
        """The interview, for the cancel dialog, if it can still be canceled."""
        return self._form(interview_id, actor, seen, done=_is(InterviewStatus.CANCELED),
                          check=lambda interview, _now: _require_cancelable(interview))

    def completed_form(self, interview_id: int, actor: Actor, seen: Seen | None = None) -> OutcomeForm:
        """The interview, for the "mark completed?" dialog, if it can be marked."""
        return self._form(interview_id, actor, seen, done=_is(InterviewStatus.COMPLETED), check=_require_markable)

    def no_show_form(self, interview_id: int, actor: Actor, seen: Seen | None = None) -> OutcomeForm:
        """The interview, for choosing who didn't come (or confirming it), if it can be marked.

        A group slot already marked opens again with its marks, to correct them; a one-on-one
        already marked as a no-show is a repeat.
        """
        def marked(interview: Interview) -> bool:
            return interview.status is InterviewStatus.NO_SHOW or any(s.attended is False for s in _seats(interview))

        def check(interview: Interview, now: datetime) -> None:
            _require_markable(interview, now)
            if not _seats(interview):
                raise Conflict("This interview has no participants to mark as no-show.")

        return self._form(interview_id, actor, seen, done=marked, check=check,
                          repeat=lambda form: not form.group and form.interview.status is InterviewStatus.NO_SHOW)

    def _form(
        self, interview_id: int, actor: Actor, seen: Seen | None, *,
        done: Callable[[Interview], bool], check: Callable[[Interview, datetime], None],
        repeat: Callable[[OutcomeForm], bool] | None = None,
    ) -> OutcomeForm:
        now = self.clock()
        with self.db.transaction() as session:
            interview = _load(session, interview_id, actor, now, seen, already=done)
            form = OutcomeForm(summary(interview, now), can_rebook=_can_rebook(interview))
            if repeat(form) if repeat is not None else done(interview):
                return replace(form, already=True, already_by=_last_outcome_by(session, interview))
            check(interview, now)
            return form

    # -------------------------------------------------------------- changes

    def mark_completed(self, interview_id: int, actor: Actor, seen: Seen | None = None) -> OutcomeResult:
        """The interview took place: its participants attended (a correction of a no-show too).

        In a group where someone was already marked as not attending, that mark stands.
        """
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            interview = _load(session, interview_id, actor, now, seen, already=_is(InterviewStatus.COMPLETED))
            if interview.status is InterviewStatus.COMPLETED:
                return _already(session, interview, now)
            _require_markable(interview, now)
            previous = interview.status
            seats = _seats(interview)
            keep_marks = previous is InterviewStatus.UPCOMING and any(s.attended is not False for s in seats)
            for seat in seats:
                if keep_marks and seat.attended is False:
                    continue
                _mark(seat, attended=True)
            interview.status = InterviewStatus.COMPLETED
            interview.outcome_at = now
            details: dict[str, Any] = {"previous": previous.value} if previous is not InterviewStatus.UPCOMING else {}
            event = activity.record(session, interview, ActivityKind.COMPLETED, actor, now, **details)
            session.flush()
            self.notifier.card(session, interview, now, f"completed:e{event.id}",
                               note={"kind": "completed", **_by(actor)})
            return _outcome(session, interview, now)

    def mark_no_show(
        self, interview_id: int, actor: Actor, seen: Seen | None = None, *, no_shows: Collection[int] | None = None,
    ) -> OutcomeResult:
        """Participants who didn't come (``no_shows``: participant ids; None: every participant).

        The others attended. The interview is a no-show only if nobody came; otherwise completed.
        A completed interview can be corrected this way.
        """
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            def done(interview: Interview) -> bool:
                try:
                    return _marks_match(interview, _absent(interview, no_shows))
                except InvalidInput:
                    return False

            interview = _load(session, interview_id, actor, now, seen, already=done)
            seats = _seats(interview)
            if not seats:
                raise Conflict("This interview has no participants to mark as no-show.")
            missing = _absent(interview, no_shows)
            if done(interview):
                return _already(session, interview, now)
            _require_markable(interview, now)
            for seat in seats:
                _mark(seat, attended=seat.participant_id not in missing)
            everyone_missed = all(s.participant_id in missing for s in seats)
            interview.status = InterviewStatus.NO_SHOW if everyone_missed else InterviewStatus.COMPLETED
            interview.outcome_at = now
            names = [s.display_name for s in seats if s.participant_id in missing]
            attended = [s.display_name for s in seats if s.participant_id not in missing]
            details: dict[str, Any] = {"participants": names}
            if attended:
                details["attended"] = attended
            event = activity.record(session, interview, ActivityKind.NO_SHOW, actor, now, **details)
            session.flush()
            self.notifier.card(session, interview, now, f"no_show:e{event.id}",
                               note={"kind": "no_show", **_by(actor), "participants": names})
            return _outcome(session, interview, now)

    def cancel(
        self, interview_id: int, actor: Actor, seen: Seen | None = None, *, message: str | None = None,
        from_calendar: bool = False,
    ) -> OutcomeResult:
        """Cancel for everyone: METHOD:CANCEL to every attendee with an email; participants get
        the team's message and their link to book again. ``from_calendar``: the event was deleted
        in Google Calendar, so nothing is written back."""
        message = clean_message(message)
        now = self.clock()
        with self.db.transaction(write_lock=True) as session:
            if from_calendar:
                notifications.from_calendar(session)
            interview = _load(session, interview_id, actor, now, seen, already=_is(InterviewStatus.CANCELED))
            if interview.status is InterviewStatus.CANCELED:
                return _already(session, interview, now)
            _require_cancelable(interview)
            interview.status = InterviewStatus.CANCELED
            interview.outcome_note = message
            interview.outcome_at = now
            interview.ical_sequence += 1
            for seat in _seats(interview):
                if seat.participant is not None:
                    seat.participant.status = ParticipantStatus.CANCELED_INTERVIEW
            activity.record(session, interview, ActivityKind.CANCELED, actor, now, reason=message)
            session.flush()
            self._tell_of_cancel(session, interview, actor, message, now)
            self.notifier.card(session, interview, now, f"canceled:team:{interview.ical_sequence}",
                               note={"kind": "canceled", **_by(actor), "reason": message})
            waitlist.offer_freed_time(session, interview, now, self.mailer)
            return _outcome(session, interview, now)

    # -------------------------------------------------------------- emails

    def _tell_of_cancel(self, session: Session, interview: Interview, actor: Actor, message: str | None, now: datetime) -> None:
        """Participants first (with the team's message), then hosts and guests; every email
        carries the CANCEL of the invite, so calendars drop the event."""
        study = interview.study
        invite = invite_for(interview, self.mailer, method="CANCEL", now=now)
        canceled_by = _member_name(session, interview, actor)
        people = [a.display_name for a in _seats(interview)]
        for seat in _seats(interview):
            participant = seat.participant
            if participant is None or not seat.email:
                continue
            token = self.mailer.links.token(participant.id, participant.token_nonce or "")
            rendered = render_email(
                "team_cancellation", participant_name=participant.name, study_name=study.name,
                when=when(interview.starts_at, interview.ends_at, participant.timezone or study.timezone),
                message=message, sender_name=canceled_by,
                # A closed study books nobody: no link that would lead nowhere.
                scheduling_url=self.mailer.links.scheduling_url(token) if _can_rebook(interview) else None,
            )
            self.notifier.queue_email(
                session, _email_key(interview, f"p{participant.id}"), interview, study, rendered,
                to=Mailbox(participant.name, seat.email), now=now, invite=invite,
                timeline={"template": "cancellation", "to": participant.name},
            )
        for attendee in interview.attendees:
            if attendee.role is AttendeeRole.PARTICIPANT or not attendee.email:
                continue
            rendered = render_email(
                "team_cancellation_notice", recipient_name=attendee.display_name or "there", study_name=study.name,
                when=when(interview.starts_at, interview.ends_at, study.timezone),
                participants=", ".join(people) or "nobody yet", canceled_by=canceled_by or "A teammate", message=message,
            )
            self.notifier.queue_email(
                session, _email_key(interview, f"a{attendee.id}"), interview, study, rendered,
                to=Mailbox(attendee.display_name or "", attendee.email), now=now, invite=invite, timeline=None,
            )


def clean_message(message: str | None) -> str | None:
    """The team's message as typed (line breaks kept), or None when blank."""
    lines = [line.rstrip() for line in (message or "").strip().splitlines()]
    cleaned = "\n".join(lines)
    if len(cleaned) > MAX_MESSAGE:
        raise InvalidInput(f"Please keep the message under {MAX_MESSAGE} characters (it has {len(cleaned)}).")
    return cleaned or None


def _load(
    session: Session, interview_id: int, actor: Actor, now: datetime, seen: Seen | None,
    *, already: Callable[[Interview], bool],
) -> Interview:
    """``load_for_action``, except that a view made stale by this very change (a repeat) is let
    through, so that the caller can answer "already done" rather than "changed since"."""
    try:
        return load_for_action(session, interview_id, actor, now, seen)
    except StaleView as stale:
        interview = session.get(Interview, interview_id)  # loaded and locked by load_for_action
        moved = stale.previous.starts_at not in (None, stale.current.starts_at)
        if interview is None or moved or not already(interview):
            raise
        return interview


def _can_rebook(interview: Interview) -> bool:
    return interview.study.status is StudyStatus.ACTIVE


def _is(status: InterviewStatus) -> Callable[[Interview], bool]:
    return lambda interview: interview.status is status


def _require_markable(interview: Interview, now: datetime) -> None:
    if interview.status is InterviewStatus.CANCELED:
        raise Conflict(WAS_CANCELED)
    if interview.starts_at > now:
        raise Conflict(NOT_STARTED)


def _require_cancelable(interview: Interview) -> None:
    if interview.status is InterviewStatus.COMPLETED:
        raise Conflict("This interview was marked completed, so it can't be canceled. If nobody came, mark it as a no-show.")
    if interview.status is InterviewStatus.NO_SHOW:
        raise Conflict("This interview was marked as a no-show, so there is nothing to cancel. Reschedule it to find a new time.")


def _seats(interview: Interview) -> list[Attendee]:
    return [a for a in interview.attendees if a.role is AttendeeRole.PARTICIPANT]


def _absent(interview: Interview, no_shows: Collection[int] | None) -> set[int]:
    """The participant ids of those who didn't come, checked against who is on the interview."""
    on_it = {s.participant_id for s in _seats(interview) if s.participant_id is not None}
    if no_shows is None:
        return on_it
    chosen = set(no_shows)
    if not chosen:
        raise InvalidInput("Tick who didn't come. If everyone came, mark the interview completed instead.")
    if not chosen <= on_it:
        raise InvalidInput("Someone you ticked is no longer on this interview. Open it again for the current list.")
    return chosen


def _marks_match(interview: Interview, missing: set[int]) -> bool:
    """The interview already says exactly this about who came."""
    seats = _seats(interview)
    everyone_missed = bool(seats) and all(s.participant_id in missing for s in seats)
    status = InterviewStatus.NO_SHOW if everyone_missed else InterviewStatus.COMPLETED
    return interview.status is status and all(s.attended is (s.participant_id not in missing) for s in seats)


def _mark(seat: Attendee, *, attended: bool) -> None:
    seat.attended = attended
    if seat.participant is not None:
        seat.participant.status = ParticipantStatus.COMPLETED if attended else ParticipantStatus.NO_SHOW


def _by(actor: Actor) -> dict[str, str]:
    """Who did it, for a thread note: a teammate's Slack id, or the name of the system."""
    if actor.slack_user_id:
        return {"by": actor.slack_user_id}
    return {"who": actor.name or "Interview Desk"}


def _email_key(interview: Interview, who: str) -> str:
    return f"email:team_cancel:{interview.id}:{who}:{interview.ical_sequence}"


def _member_name(session: Session, interview: Interview, actor: Actor) -> str | None:
    if actor.slack_user_id is None:
        return None
    member = queries.team_member(session, interview.study.team_id, actor.slack_user_id)
    return member.display_name if member is not None else None


def _outcome(session: Session, interview: Interview, now: datetime) -> OutcomeResult:
    done = result(session, interview, now)
    return OutcomeResult(done.interview, done.changed, done.outbox_ids)


def _last_outcome_by(session: Session, interview: Interview) -> ChangedBy | None:
    """Who gave the interview its outcome, from the latest outcome event."""
    event = session.scalars(
        select(ActivityEvent)
        .where(ActivityEvent.interview_id == interview.id, ActivityEvent.kind.in_(_OUTCOME_KINDS))
        .order_by(ActivityEvent.id.desc())
        .limit(1)
    ).first()
    return ChangedBy(event.actor_slack_user_id, event.actor_name, event.actor_kind) if event is not None else None


def _already(session: Session, interview: Interview, now: datetime) -> OutcomeResult:
    """Nothing to do: it is already so."""
    done = result(session, interview, now, changed=False)
    return OutcomeResult(done.interview, False, done.outbox_ids, already_by=_last_outcome_by(session, interview))
