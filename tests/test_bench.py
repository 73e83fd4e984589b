"""The benchmarks print figures and are not run here; what they cover and how they report is."""

import asyncio
from collections import Counter

from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import ack_cases
from bench.ack_report import Options, Row, table
from bench.load import LoadGenerator
from bot.actions import InterviewAction
from tests.support.live_server import serve_in_thread

SECRET = "load-generator-secret"


def test_every_interview_action_has_an_acknowledgement_case() -> None:
    covered = {case.action for case in ack_cases.CASES}
    assert set(InterviewAction) <= covered
    assert set(ack_cases.QUICK) <= {case.label for case in ack_cases.CASES}


def test_the_table_puts_each_row_beside_the_floor_of_its_kind() -> None:
    details = next(case for case in ack_cases.CASES if case.label == "View details")
    ours = {("View details", 50): Row([10.0, 20.0, 400.0], Counter({"200": 2, "404": 1}), 2, 1.5, [30.0, 50.0],
                                       cpu_ms=6.25)}
    floor = {(details.entry, 50): Row([5.0, 10.0, 100.0], Counter({"200": 3}), 3, 0.0, cpu_ms=0.75)}

    [row] = [line for line in table(Options(levels=(50,), cases=(details,)), ours, floor).splitlines()
             if line.startswith("| View details")]

    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:5] == ["View details", "button", "50", "20.0", f"{ours['View details', 50].p99:.1f}"]
    assert cells[7] == "2.0"  # p50 ÷ the floor's p50
    assert cells[9] == "6.2 / 0.8"  # the server's CPU per request, ours and the floor's
    assert cells[10] == "40 / 50"  # the answers
    assert cells[11:] == ["2/3", "1 (404×1)", "1.5"]


def test_the_load_generator_keeps_the_asked_number_in_flight_each_signed() -> None:
    in_flight, peak, seen = 0, 0, []
    verifier = SignatureVerifier(SECRET)

    async def events(request: Request) -> Response:
        nonlocal in_flight, peak
        body = (await request.body()).decode()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return Response(status_code=401)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        seen.append(body)
        return Response(body.upper())

    async def healthz(_request: Request) -> Response:
        return Response("ok")

    app = Starlette(routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz)])
    bodies = [f"request {n}" for n in range(12)]
    with serve_in_thread(app) as url, LoadGenerator(SECRET) as load:
        sent = load.closed_loop(url, bodies, 4)

    assert peak == 4
    assert sorted(seen) == sorted(bodies)
    assert sent.statuses == Counter({"200": 12})
    assert sent.bodies == [body.upper().encode() for body in bodies]  # in the order given
    assert all(latency >= 50 for latency in sent.latencies_ms)
    assert all(at > 0 for at in sent.sent_at)
