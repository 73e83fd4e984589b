"""The participant pages' endpoints: answer the screener, pick a time, book, see, move or cancel.

Each endpoint loads the link's state first, so an unknown or tampered token is a 404 whatever
else is wrong with the request, and an error page can still name the study. The portal's calls
are synchronous database work and run in the thread pool. A domain error becomes a page that
says what happened and what to do next, with the matching status; anything unexpected is logged
and answered with a page that says nothing changed (the portal's transaction was rolled back).
"""

import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.clock import Clock
from bot.services import Services
from bot.services.calendar_busy import BusyTimes
from bot.services.errors import DomainError
from bot.services.portal import (
    MAX_REASON,
    LinkNotValid,
    ParticipantPortal,
    PortalBooking,
    PortalState,
    SlotTaken,
)
from bot.services.screener import (
    MAX_ANSWER,
    AnswersInvalid,
    NotQualified,
    Question,
    ScreenerService,
    ScreenerStep,
)
from bot.web import views
from bot.web.assets import ASSET_PATH, asset
from bot.web.responses import link, read_form, redirect, render, secured, status_for

log = logging.getLogger(__name__)

Handler = Callable[["ParticipantPages", Request, str], Awaitable[Response]]

_TITLES = {
    400: "Please check that again",
    403: "That isn't possible here",
    404: "Not found",
    409: "That clashes with your booking",
    413: "That was too long",
    415: "That form is not ours",
}


def page_routes(services: Services) -> list[BaseRoute]:
    """The routes for ``create_web_app``; the asset route comes first so it wins over a token."""
    pages = ParticipantPages(services.portal, services.clock, services.screener, services.busy_times)
    return [
        Route(ASSET_PATH, asset, methods=["GET"]),
        Route("/s/{token}", pages.picker, methods=["GET"]),
        Route("/s/{token}/screener", pages.answer, methods=["POST"]),
        Route("/s/{token}/thanks", pages.thanks, methods=["GET"]),
        Route("/s/{token}/book", pages.book, methods=["POST"]),
        Route("/s/{token}/booked", pages.booked, methods=["GET"]),
        Route("/s/{token}/manage", pages.manage, methods=["GET"]),
        Route("/s/{token}/reschedule", pages.reschedule, methods=["POST"]),
        Route("/s/{token}/cancel", pages.cancel, methods=["POST"]),
        Route("/s/{token}/canceled", pages.canceled, methods=["GET"]),
        Route("/s/{token}/invite.ics", pages.invite, methods=["GET"]),
    ]


ProblemPage = Callable[[DomainError, str, PortalState | None], Response]


def error_pages(problem: ProblemPage, kind: str) -> Callable[[Any], Any]:
    """A decorator for page handlers ``(self, request, token)``: a ``DomainError`` becomes
    ``problem``'s page, anything else a 500 page, and every answer gets the privacy headers.
    Shared by every module of participant pages (``kind`` names them in the log)."""

    def page(handler: Any) -> Any:
        @wraps(handler)
        async def endpoint(self: Any, request: Request) -> Response:
            token = request.path_params["token"]
            try:
                return secured(await handler(self, request, token))
            except DomainError as error:
                return problem(error, token, getattr(request.state, "portal", None))
            except Exception:
                # Named by handler, never by path: the path holds the token.
                log.exception("%s page %s failed", kind, handler.__name__)
                return render(
                    "problem",
                    status=500,
                    title="Something went wrong",
                    message="Nothing was changed. Please try again in a minute.",
                    links=[],
                )

        return endpoint

    return page


def problem(error: DomainError, token: str, state: PortalState | None) -> Response:
    """A page naming the problem; its way forward only when the link itself is valid."""
    status = status_for(error)
    if isinstance(error, LinkNotValid) or state is None:
        return render(
            "problem",
            status=status,
            title="This link is not valid" if status == 404 else _TITLES.get(status, _TITLES[400]),
            message=error.message,
            links=[],
        )
    if state.booking is not None:
        links = [(link(token, "manage"), "See your booking")]
    else:
        links = [(link(token), "Choose a time")] if state.study_open else []
    return render(
        "problem",
        status=status,
        title=_TITLES.get(status, _TITLES[400]),
        message=error.message,
        links=links,
        header=views.header(state),
    )


page = error_pages(problem, "participant")


class ParticipantPages:
    """The endpoints, bound to one portal; each takes the request and the link's token."""

    def __init__(self, portal: ParticipantPortal, clock: Clock, screener: ScreenerService, busy_times: BusyTimes) -> None:
        self.portal = portal
        self.busy_times = busy_times
        self.clock = clock
        self.screener = screener

    async def _state(self, request: Request, token: str) -> PortalState:
        state = await run_in_threadpool(self.portal.state, token)
        request.state.portal = state  # so an error page can name the study
        return state

    def _layout(self, state: PortalState, zone: views.ZoneChoice, action: str | None) -> dict[str, object]:
        return {
            "header": views.header(state),
            "zone": zone.name,
            "zone_chosen": zone.chosen,
            "zone_form": {"action": action, "zones": views.zone_names()} if action else None,
        }

    # -------------------------------------------------------------- choosing a time

    @page
    async def picker(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        zone = views.zone_for(request.query_params.get("tz"), state)
        if state.booking is not None:
            return self._booking_page(
                token, state, state.booking, zone, link(token), heading="You have an interview booked"
            )
        if not state.study_open:
            return render(
                "problem",
                status=403,
                header=views.header(state),
                title="This study is closed",
                message="It is not booking interviews any more. Thank you for your interest.",
                links=[],
            )
        screening = await run_in_threadpool(self.screener.state, token)
        if screening.step is ScreenerStep.NOT_QUALIFIED:
            return render("not_qualified", header=views.header(state))
        if screening.step is ScreenerStep.ANSWER:
            return self._screener(token, state, screening.questions)
        # Hosts' Google Calendars, if not looked at lately (a few seconds at most; stored blocks otherwise).
        await run_in_threadpool(self.busy_times.refresh_for_link, token)
        slots = await run_in_threadpool(self.portal.slots, token)
        return render(
            "picker",
            **self._layout(state, zone, link(token)),
            participant_name=state.participant_name,
            action=link(token, "book"),
            days=views.days(slots, zone.name, views.today_in(zone.name, self.clock())),
        )

    @page
    async def book(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        form = await read_form(request)
        start, zone = views.parse_start(form.get("start")), views.known_zone(form.get("tz", ""))
        try:
            await run_in_threadpool(self.portal.book, token, start, zone)
        except SlotTaken as taken:
            return self._taken(token, state, zone, taken, action=link(token, "book"), reason=None)
        except NotQualified:
            return render("not_qualified", status=403, header=views.header(state))
        return redirect(link(token, "booked"), tz=zone)

    @page
    async def booked(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        zone = views.zone_for(request.query_params.get("tz"), state)
        if state.booking is None:
            return redirect(link(token))
        moved = request.query_params.get("moved") == "1"
        return self._booking_page(
            token,
            state,
            state.booking,
            zone,
            link(token, "booked"),
            heading="Your interview has moved" if moved else "You're booked",
        )

    # -------------------------------------------------------------- the screener

    @page
    async def answer(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        if state.booking is not None:
            return redirect(link(token))
        form = await read_form(request)
        try:
            step = await run_in_threadpool(self.screener.submit, token, form)
        except AnswersInvalid as invalid:
            return self._screener(token, state, invalid.questions, errors=invalid.errors, answers=form)
        return redirect(link(token, "thanks") if step is ScreenerStep.NOT_QUALIFIED else link(token))

    @page
    async def thanks(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        screening = await run_in_threadpool(self.screener.state, token)
        if state.booking is not None or screening.step is not ScreenerStep.NOT_QUALIFIED:
            return redirect(link(token))
        return render("not_qualified", header=views.header(state))

    # -------------------------------------------------------------- changing the booking

    @page
    async def manage(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        zone = views.zone_for(request.query_params.get("tz"), state)
        if state.booking is None:
            return redirect(link(token))
        days: list[views.DayView] = []
        if state.booking.can_change:
            slots = await run_in_threadpool(self.portal.slots, token)
            today = views.today_in(zone.name, self.clock())
            days = views.days(views.other_times(slots, state.booking), zone.name, today)
        return render(
            "manage",
            **self._layout(state, zone, link(token, "manage")),
            booking=views.booking_view(state.booking, zone.name),
            days=days,
            reschedule_action=link(token, "reschedule"),
            cancel_action=link(token, "cancel"),
            ics=link(token, "invite.ics"),
            max_reason=MAX_REASON,
        )

    @page
    async def reschedule(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        form = await read_form(request)
        start, zone = views.parse_start(form.get("start")), views.known_zone(form.get("tz", ""))
        reason = form.get("reason")
        try:
            await run_in_threadpool(self.portal.reschedule, token, start, zone, reason)
        except SlotTaken as taken:
            return self._taken(token, state, zone, taken, action=link(token, "reschedule"), reason=reason)
        return redirect(link(token, "booked"), tz=zone, moved="1")

    @page
    async def cancel(self, request: Request, token: str) -> Response:
        await self._state(request, token)
        form = await read_form(request)
        await run_in_threadpool(self.portal.cancel, token, form.get("reason"))
        return redirect(link(token, "canceled"))

    @page
    async def canceled(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        if state.booking is not None:
            return redirect(link(token, "manage"))
        return render(
            "canceled", header=views.header(state), book_again=link(token) if state.study_open else None
        )

    @page
    async def invite(self, request: Request, token: str) -> Response:
        await self._state(request, token)
        ics = await run_in_threadpool(self.portal.invite, token)
        return Response(
            ics,
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="interview.ics"'},
        )

    # -------------------------------------------------------------- shared pages

    def _booking_page(
        self,
        token: str,
        state: PortalState,
        booking: PortalBooking,
        zone: views.ZoneChoice,
        here: str,
        *,
        heading: str,
    ) -> Response:
        return render(
            "booked",
            **self._layout(state, zone, here),
            heading=heading,
            booking=views.booking_view(booking, zone.name),
            manage=link(token, "manage"),
            ics=link(token, "invite.ics"),
        )

    def _screener(
        self,
        token: str,
        state: PortalState,
        questions: tuple[Question, ...],
        *,
        errors: dict[str, str] | None = None,
        answers: dict[str, str] | None = None,
    ) -> Response:
        """The questions; with ``errors`` (by question id) a 400 that keeps what was chosen."""
        return render(
            "screener",
            status=400 if errors else 200,
            header=views.header(state),
            participant_name=state.participant_name,
            questions=questions,
            errors=errors or {},
            answers=answers or {},
            action=link(token, "screener"),
            max_answer=MAX_ANSWER,
        )

    def _taken(
        self, token: str, state: PortalState, zone: str, taken: SlotTaken, *, action: str, reason: str | None
    ) -> Response:
        today = views.today_in(zone, self.clock())
        return render(
            "taken",
            status=409,
            header=views.header(state),
            zone=zone,
            action=action,
            days=views.days(taken.alternatives, zone, today),
            reason=reason or "",
            back=link(token, "manage") if state.booking is not None else link(token),
        )
