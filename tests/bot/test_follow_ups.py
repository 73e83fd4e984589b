"""The lanes after an acknowledgement: answers take turns, give their turn away while Slack
answers, and a full lane makes new clicks wait for room instead of piling up."""

import asyncio
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.follow_ups import CpuTurns, FollowUps
from bot.slack_app import TurnTakingWebClient
from tests.support.live_server import serve_in_thread


def test_an_answer_waits_for_a_turn_until_another_gives_its_turn_back() -> None:
    follow_ups = FollowUps(answering=1)
    second_started, first_may_finish, first_done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        first_may_finish.wait(5)
        first_done.set()

    follow_ups.answer(first, took_room=False)
    follow_ups.answer(second_started.set, took_room=False)
    try:
        assert not second_started.wait(0.3)  # the only turn is taken
        first_may_finish.set()
        assert second_started.wait(5) and first_done.is_set()
    finally:
        first_may_finish.set()
        follow_ups.shutdown()


def test_waiting_for_the_network_lets_another_answer_run() -> None:
    follow_ups = FollowUps(answering=1)
    second_ran, first_done = threading.Event(), threading.Event()

    def first() -> None:
        with follow_ups.turns.waiting():  # as the Slack client does around a request
            second_ran.wait(5)
        first_done.set()

    follow_ups.answer(first, took_room=False)
    follow_ups.answer(second_ran.set, took_room=False)
    try:
        assert second_ran.wait(5)
        assert first_done.wait(5)
    finally:
        second_ran.set()
        follow_ups.shutdown()


def test_a_full_lane_has_no_room_until_an_answer_is_done() -> None:
    follow_ups = FollowUps(answers_waiting=1)
    release = threading.Event()
    assert follow_ups.wait_for_room(timeout=1)
    follow_ups.answer(lambda: release.wait(5), took_room=True)
    try:
        assert not follow_ups.wait_for_room(timeout=0.2)
        release.set()
        assert follow_ups.wait_for_room(timeout=5)
    finally:
        release.set()
        follow_ups.shutdown()


def test_a_failed_answer_frees_its_turn_and_its_room() -> None:
    follow_ups = FollowUps(answering=1, answers_waiting=1)

    def fails() -> None:
        raise RuntimeError("boom")

    assert follow_ups.wait_for_room(timeout=1)
    follow_ups.answer(fails, took_room=True)
    try:
        assert follow_ups.wait_for_room(timeout=5)
        ran = threading.Event()
        follow_ups.answer(ran.set, took_room=False)
        assert ran.wait(5)
    finally:
        follow_ups.shutdown()


def test_the_slack_client_gives_its_turn_away_while_slack_answers() -> None:
    turns = CpuTurns(1)
    other_had_a_turn = threading.Event()

    async def auth_test(_request: Request) -> JSONResponse:
        # Slack answers only once another thread has had a turn (or gives up after 5 s).
        for _ in range(500):
            if other_had_a_turn.is_set():
                return JSONResponse({"ok": True, "user_id": "U0BOT"})
            await asyncio.sleep(0.01)
        return JSONResponse({"ok": False, "error": "the turn was never given away"})

    def take_a_turn() -> None:
        with turns.turn():
            other_had_a_turn.set()

    app = Starlette(routes=[Route("/api/auth.test", auth_test, methods=["POST"])])
    with serve_in_thread(app) as url:
        client = TurnTakingWebClient(token="xoxb-test", base_url=f"{url}/api/", turns=turns)
        with turns.turn():
            other = threading.Thread(target=take_a_turn)
            other.start()
            response = client.auth_test()
            assert turns.holding()  # the turn is back once Slack has answered
        other.join(5)
    assert response["ok"] is True
