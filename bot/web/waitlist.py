"""The waitlist pages: "Tell me when a time opens", leaving the list, and a freed time's offer.

Thin like ``pages.py``, and built on it: the same error pages, headers and form reading. The
offer (``/s/<token>/opening?start=<unix>``, the link in a ``slot_opened`` email) only shows the
time and a button that posts to the normal booking (``/s/<token>/book``): a GET never books, so
a mail scanner following the link changes nothing, and whoever posts first gets the time under
booking's own locks; the next one gets the "That time was just taken" page.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.clock import Clock
from bot.services import Services
from bot.services.attendance import seen_start
from bot.services.errors import Conflict, InvalidInput
from bot.services.notifications import when
from bot.services.portal import ParticipantPortal, PortalState
from bot.services.screener import NotQualified, ScreenerService, ScreenerStep
from bot.services.slots import OpenSlot
from bot.services.waitlist import WaitlistService, unix
from bot.web import pages, views
from bot.web.responses import link, read_form, redirect, render

Handler = Callable[["WaitlistPages", Request, str], Awaitable[Response]]

NEAREST = 3  # other times shown when an offered time is gone, as the booking's "just taken" page


def waitlist_routes(services: Services) -> list[BaseRoute]:
    waitlist = services.waitlist
    endpoints = WaitlistPages(services.portal, services.screener, waitlist, services.clock)
    return [
        Route("/s/{token}/waitlist", endpoints.status, methods=["GET"]),
        Route("/s/{token}/waitlist/join", endpoints.join, methods=["POST"]),
        Route("/s/{token}/waitlist/leave", endpoints.leave, methods=["POST"]),
        Route("/s/{token}/opening", endpoints.opening, methods=["GET"]),
    ]


page = pages.page


class WaitlistPages:
    def __init__(self, portal: ParticipantPortal, screener: ScreenerService, waitlist: WaitlistService, clock: Clock) -> None:
        self.portal = portal
        self.screener = screener
        self.waitlist = waitlist
        self.clock = clock

    async def _state(self, request: Request, token: str) -> PortalState:
        state = await run_in_threadpool(self.portal.state, token)
        request.state.portal = state  # so an error page can name the study
        return state

    # -------------------------------------------------------------- the list

    @page
    async def status(self, request: Request, token: str) -> Response:
        """Where the participant stands: on the list (with a way off it), or not (with a way on)."""
        state = await self._state(request, token)
        if not state.study_open:
            return _closed(state)
        waiting = (await run_in_threadpool(self.waitlist.state, token)).waiting
        booked = state.booking is not None
        left = request.query_params.get("left") == "1"
        if booked:
            heading = "You have an interview booked"
        elif waiting:
            heading = "You're on the list"
        else:
            heading = "You're not on the list"
        return render(
            "waitlist",
            header=views.header(state),
            heading=heading,
            booked=booked,
            waiting=waiting,
            left=left and not waiting,
            join_action=link(token, "waitlist/join"),
            leave_action=link(token, "waitlist/leave"),
            picker=link(token),
        )

    @page
    async def join(self, request: Request, token: str) -> Response:
        state = await self._state(request, token)
        await read_form(request)  # nothing to read, but only our own form is taken
        try:
            await run_in_threadpool(self.waitlist.join, token)
        except NotQualified:
            return render("not_qualified", status=403, header=views.header(state))
        return redirect(link(token, "waitlist"))

    @page
    async def leave(self, request: Request, token: str) -> Response:
        await self._state(request, token)
        await read_form(request)
        await run_in_threadpool(self.waitlist.leave, token)
        return redirect(link(token, "waitlist"), left="1")

    # -------------------------------------------------------------- an offered time

    @page
    async def opening(self, request: Request, token: str) -> Response:
        """The time an email offered, with a button that books it; or why it can't be booked."""
        state = await self._state(request, token)
        start = parse_unix(request.query_params.get("start"))
        zone = views.zone_for(request.query_params.get("tz"), state)
        if state.booking is not None:
            if state.booking.starts_at == start:  # booked from this very page a moment ago
                return redirect(link(token, "booked"))
            raise Conflict("You already have an interview booked. To move it to this time, use your booking page.")
        if not state.study_open:
            return _closed(state)
        screening = await run_in_threadpool(self.screener.state, token)
        if screening.step is ScreenerStep.NOT_QUALIFIED:
            return render("not_qualified", status=403, header=views.header(state))
        if screening.step is ScreenerStep.ANSWER:
            return redirect(link(token))  # the questions first; the times come after them
        slots = await run_in_threadpool(self.portal.slots, token)
        slot = next((s for s in slots if s.start == start), None)
        if slot is None:
            return self._gone(token, state, zone.name, start, slots)
        return render(
            "waitlist_opening",
            header=views.header(state),
            zone=zone.name,
            zone_chosen=zone.chosen,
            participant_name=state.participant_name,
            when=when(slot.start, slot.end, zone.name),
            start=views.start_value(slot.start),
            unix_start=unix(slot.start),
            zones=views.zone_names(),
            action=link(token, "book"),
            here=link(token, "opening"),
            picker=link(token),
        )

    def _gone(self, token: str, state: PortalState, zone: str, start: datetime, slots: list[OpenSlot]) -> Response:
        """The booking's "just taken" page: the nearest times from the one that was offered."""
        later = [s for s in slots if s.start >= start] or slots
        return render(
            "taken",
            status=409,
            header=views.header(state),
            zone=zone,
            action=link(token, "book"),
            days=views.days(later[:NEAREST], zone, views.today_in(zone, self.clock())),
            reason="",
            back=link(token),
        )


def parse_unix(value: str | None) -> datetime:
    """The ``start`` of an offer link: whole seconds since 1970, UTC."""
    start = seen_start(value)
    if start is None:
        raise InvalidInput("The time in that link could not be read. Please choose a time from the list.")
    return start


def _closed(state: PortalState) -> Response:
    return render(
        "problem",
        status=403,
        header=views.header(state),
        title="This study is closed",
        message="It is not booking interviews any more, so there will be no more emails about open times. "
        "Thank you for your interest.",
        links=[],
    )
