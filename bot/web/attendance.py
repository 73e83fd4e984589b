"""The pages behind an email's Confirm attendance and Yes / Maybe / No links.

Email link scanners fetch every link in an email, so a GET never changes anything: it shows the
interview and one button that posts the answer to the same address. In a real browser a small
script of our own origin presses that button at once, so one click in the email is enough; a
scanner that runs no scripts changes nothing, and without scripts the button still works.

The post must be the page's own form: the path's token, a form body (``read_form``), not sent
from another site (``Sec-Fetch-Site``), and naming the start it showed (``at``), so an answer is
never taken for a time the participant was not shown. Answered, the post redirects to the same
address, which then shows the thanks. A problem (a link that is not valid, a canceled or past
interview, one that moved since the email) is a page naming it, with its 4xx, and changes nothing.
"""

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache
from importlib.resources import files

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.services import Services
from bot.services.attendance import (
    Answer,
    Attendance,
    AttendanceService,
    InterviewGone,
    InterviewMoved,
    seen_start,
)
from bot.services.errors import DomainError, InvalidInput, NotAllowed
from bot.services.notifications import when
from bot.services.portal import LinkNotValid, ParticipantPortal, PortalState
from bot.web import pages, views
from bot.web.responses import (
    SECURITY_HEADERS,
    link,
    read_form,
    redirect,
    render,
    status_for,
)

log = logging.getLogger(__name__)

AUTO_SUBMIT_PATH = "/s/attend/auto-submit.js"  # not a token page: no participant route has this shape
MAX_ID_DIGITS = 12

Handler = Callable[["AttendancePages", Request, str], Awaitable[Response]]

_TITLES = {
    400: "Please use the button on the page",
    403: "That isn't possible here",
    404: "This link is not valid",
    413: "That was too long",
    415: "That form is not ours",
}

# (heading, button) for each page's question: Confirm attendance (None), or an answer.
_ASK = {
    None: ("Confirm your attendance", "Confirm attendance"),
    Answer.YES: ("Will you be there?", "Yes, I'll be there"),
    Answer.MAYBE: ("Not sure yet?", "Maybe — I'm not sure yet"),
    Answer.NO: ("Can't make it?", "No, I can't make it"),
}
_MOVED_BUTTON = {
    None: "Confirm attendance at the new time",
    Answer.YES: "Yes, I'll be there at the new time",
    Answer.MAYBE: "Maybe — I'm not sure yet",
    Answer.NO: "No, I can't make the new time",
}


def attendance_routes(services: Services) -> list[BaseRoute]:
    pages = AttendancePages(services.portal, _service(services))
    return [
        Route(AUTO_SUBMIT_PATH, auto_submit_script, methods=["GET"]),
        Route("/s/{token}/attend/{interview_id}", pages.attend, methods=["GET", "POST"]),
        Route("/s/{token}/rsvp/{interview_id}/{answer}", pages.rsvp, methods=["GET", "POST"]),
    ]


def _service(services: Services) -> AttendanceService:
    return services.attendance


@cache
def _script() -> bytes:
    return files("bot").joinpath("templates", "pages", "attend.js").read_bytes()


async def auto_submit_script(_request: Request) -> Response:
    """The same for everyone and free of tokens, so, like the other assets, it may be cached."""
    response = Response(_script(), media_type="text/javascript; charset=utf-8")
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response



def problem(error: DomainError, token: str, state: PortalState | None) -> Response:
    """A page naming the problem; its way forward only when the link itself is valid."""
    if isinstance(error, LinkNotValid) or state is None:
        status = status_for(error)
        return render("problem", status=status, title=_TITLES.get(status, _TITLES[400]), message=error.message, links=[])
    if isinstance(error, InterviewGone):  # 410: this interview will not take place any more
        title = "This interview was canceled" if error.canceled else "This interview is over"
        return render("problem", status=410, title=title, message=error.message, links=_onward(token, state),
                      header=views.header(state))
    status = status_for(error)
    return render("problem", status=status, title=_TITLES.get(status, _TITLES[400]), message=error.message,
                  links=_onward(token, state), header=views.header(state))


page = pages.error_pages(problem, "attendance")


def _onward(token: str, state: PortalState) -> list[tuple[str, str]]:
    if state.booking is not None:
        return [(link(token, "manage"), "See your booking")]
    return [(link(token), "Choose a new time")] if state.study_open else []


def _interview_id(value: str) -> int:
    if not value.isdigit() or len(value) > MAX_ID_DIGITS:
        raise LinkNotValid()
    return int(value)


def _answer(value: str) -> Answer:
    try:
        return Answer(value)
    except ValueError:
        raise LinkNotValid() from None


class AttendancePages:
    def __init__(self, portal: ParticipantPortal, service: AttendanceService) -> None:
        self.portal = portal
        self.service = service

    async def _state(self, request: Request, token: str) -> PortalState:
        state = await run_in_threadpool(self.portal.state, token)
        request.state.portal = state  # so an error page can name the study
        return state

    @page
    async def attend(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        interview_id = _interview_id(request.path_params["interview_id"])
        here = link(token, f"attend/{interview_id}")
        return await self._answer(request, token, state, interview_id, None, here)

    @page
    async def rsvp(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        interview_id = _interview_id(request.path_params["interview_id"])
        answer = _answer(request.path_params["answer"])
        here = link(token, f"rsvp/{interview_id}/{answer.value}")
        return await self._answer(request, token, state, interview_id, answer, here)

    async def _answer(
        self, request: Request, token: str, state: PortalState, interview_id: int, answer: Answer | None, here: str
    ) -> Response:
        """GET: the question (or the thanks, once answered). POST: take the answer, then show it."""
        try:
            if request.method == "POST":
                seen = await _posted_start(request)
                if answer is None:
                    result = await run_in_threadpool(self.service.confirm, token, interview_id, seen)
                else:
                    result = await run_in_threadpool(self.service.respond, token, interview_id, answer, seen)
                return redirect(here, at=str(result.attendance.seen))
            seen = seen_start(request.query_params.get("at"))
            attendance = await run_in_threadpool(self.service.show, token, interview_id, seen)
        except InterviewMoved as moved:
            return self._ask(token, state, moved.current, answer, here, moved_from=moved)
        if _answered(attendance, answer):
            return self._thanks(token, state, attendance, answer)
        return self._ask(token, state, attendance, answer, here)

    def _ask(
        self, token: str, state: PortalState, attendance: Attendance, answer: Answer | None, here: str, *,
        moved_from: InterviewMoved | None = None,
    ) -> Response:
        heading, button = _ASK[answer]
        question, moved = "Your interview:", None
        if moved_from is not None:
            # Asked again about the new time, never answered for it without being seen. The seen
            # start is at most year 9998 (seen_start), so adding the length stays in the calendar.
            duration = attendance.ends_at - attendance.starts_at
            moved = when(moved_from.seen, moved_from.seen + duration, attendance.timezone)
            heading, button = "Your interview has moved", _MOVED_BUTTON[answer]
            question = "Your interview is now:"
        return render(
            "attend_ask",
            status=409 if moved else 200,
            header=views.header(state),
            heading=heading,
            question=question,
            button=button,
            when=when(attendance.starts_at, attendance.ends_at, attendance.timezone),
            moved=moved,
            action=here,
            at=attendance.seen,
            auto_submit=None if moved else AUTO_SUBMIT_PATH,
            manage=link(token, "manage") if moved else None,
        )

    def _thanks(self, token: str, state: PortalState, attendance: Attendance, answer: Answer | None) -> Response:
        shown = when(attendance.starts_at, attendance.ends_at, attendance.timezone)
        manage = link(token, "manage")
        if answer is None:
            return render("attend_done", header=views.header(state), when=shown, manage=manage, ics=link(token, "invite.ics"))
        at = f"?at={attendance.seen}"
        rsvp = link(token, f"rsvp/{attendance.interview_id}")
        return render(
            "rsvp_done",
            header=views.header(state),
            answer=answer.value,
            confirmed=attendance.confirmed,
            when=shown,
            manage=manage,
            confirm=link(token, f"attend/{attendance.interview_id}") + at,
            yes=f"{rsvp}/yes{at}",
            no=f"{rsvp}/no{at}",
        )


def _answered(attendance: Attendance, answer: Answer | None) -> bool:
    if answer is None:
        return attendance.confirmed
    return attendance.answered(answer)


async def _posted_start(request: Request) -> datetime:
    """The start the page showed, from its own form; anything else is refused before any change."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise NotAllowed("Please answer from the page the link in your email opened.")
    form = await read_form(request)
    seen = seen_start(form.get("at"))
    if seen is None:
        raise InvalidInput("Please answer with the button on the page the link in your email opened.")
    return seen
