"""``interview-desk serve`` and ``interview-desk demo`` as real processes, reached over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.in_process import InProcessCli
from tests.conftest import ADA, BO, BOT_TOKEN, CHANNEL, SIGNING_SECRET, WORKSPACE
from tests.e2e.processes import (
    IN_HOURS,
    ServerProcess,
    clean_env,
    exited_cleanly,
    seed_study,
    serving,
)
from tests.support import slack_requests
from tests.support.blockkit import assert_valid_message, assert_valid_view
from tests.support.fake_slack import FakeSlackAPI
from tests.support.live_server import free_port

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class LiveApp:
    server: ServerProcess
    study_id: int
    interview_id: int
    schema_at_start: dict[str, Any]
    """``db current`` of the database file, which was empty until the server started on it."""


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, fake_slack_server: FakeSlackAPI) -> Iterator[LiveApp]:
    """``interview-desk serve`` on a fresh SQLite file against the fake Slack API, seeded once it is up.

    Shared by the module's tests, which only read; it is stopped with SIGTERM at the end, and a
    server that does not shut down gracefully fails the module's last test at teardown.
    """
    root = tmp_path_factory.mktemp("serve")
    database_url = f"sqlite:///{root / 'server.db'}"
    port = free_port()
    server_env = clean_env(
        DATABASE_URL=database_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack_server.api_url, HOST="127.0.0.1", PORT=str(port),
    )
    with serving(["serve"], cwd=root, env=server_env, port=port) as server:
        # In-process: the seeding commands are not under test here, and a subprocess costs a second each.
        cli = InProcessCli(root, DATABASE_URL=database_url)
        schema = cli("db", "current", "--json").json()  # before any command could have migrated it
        seeded = seed_study(cli, workspace=WORKSPACE, channel=CHANNEL, host=ADA, members=(ADA, BO))
        booked = cli(
            "interview", "book", "--study", str(seeded.study_id), "--participant", "nora@example.com",
            "--start", IN_HOURS, "--host", ADA, "--json",
        ).json()
        yield LiveApp(server, seeded.study_id, booked["interview_id"], schema)
        returncode = server.stop()
    assert exited_cleanly(returncode), f"exit status {returncode} after SIGTERM\n{server.output()}"
    assert "Application shutdown complete" in server.stderr


@pytest.fixture
def http(live_app: LiveApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_app.server.base_url, timeout=10) as client:
        yield client


def _post_signed(http: httpx.Client, body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> httpx.Response:
    return http.post("/slack/events", content=body.encode(), headers=slack_requests.sign(body, secret, timestamp))


def _interviews_command(fake: FakeSlackAPI, name: str = "interviews") -> str:
    return slack_requests.slash_command(
        "/interviews", "", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL,
        response_url=fake.response_url(name),
    )


def _element(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no element with action_id {action_id!r} in {json.dumps(blocks)}")


# ---------------------------------------------------------------- serve


def test_healthz_reports_ok_with_version(http: httpx.Client) -> None:
    response = http.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert isinstance(body["version"], str) and body["version"]


def test_interviews_command_lists_the_booked_interview(http: httpx.Client, fake_slack: FakeSlackAPI, live_app: LiveApp) -> None:
    """``/interviews`` in the study channel answers with an ephemeral list in valid Block Kit."""
    response = _post_signed(http, _interviews_command(fake_slack))

    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert_valid_message(reply["blocks"])
    assert "Nora Quist" in json.dumps(reply["blocks"], ensure_ascii=False)
    button = _element(reply["blocks"], "interview.view_details")
    assert json.loads(button["value"])["interview_id"] == live_app.interview_id


def test_view_details_opens_a_modal_naming_the_participant(http: httpx.Client, fake_slack: FakeSlackAPI) -> None:
    """Clicking View details in the reply makes the app call ``views.open`` with a valid modal."""
    reply = _post_signed(http, _interviews_command(fake_slack)).json()
    button = _element(reply["blocks"], "interview.view_details")

    click = slack_requests.block_actions(
        "interview.view_details", value=button["value"], user_id=ADA, team_id=WORKSPACE,
        channel_id=CHANNEL, response_url=fake_slack.response_url("details"),
    )
    response = _post_signed(http, click)

    assert response.status_code == 200, response.text
    [call] = fake_slack.wait_for("views.open")
    assert not call.failed, call.error
    assert call.params["trigger_id"] == slack_requests.DEFAULT_TRIGGER_ID
    view = call.params["view"]
    assert view["type"] == "modal"
    assert_valid_view(view)
    assert "Nora Quist" in json.dumps(view, ensure_ascii=False)


def test_forged_signature_is_refused(http: httpx.Client, fake_slack: FakeSlackAPI) -> None:
    response = _post_signed(http, _interviews_command(fake_slack), secret="not-the-signing-secret")

    assert response.status_code == 401
    assert fake_slack.calls == []


def test_stale_timestamp_is_refused(http: httpx.Client, fake_slack: FakeSlackAPI) -> None:
    """A correctly signed request from ten minutes ago is a replay."""
    response = _post_signed(http, _interviews_command(fake_slack), timestamp=int(time.time()) - 600)

    assert response.status_code == 401
    assert fake_slack.calls == []


def test_signed_but_malformed_payload_is_a_bad_request(http: httpx.Client) -> None:
    response = _post_signed(http, "payload=not-json")

    assert response.status_code == 400


def test_serve_migrates_a_fresh_database_on_start(live_app: LiveApp) -> None:
    """The file was empty when ``serve`` started; it was at the latest revision once healthy."""
    assert live_app.schema_at_start["current"] == live_app.schema_at_start["head"]


# ---------------------------------------------------------------- demo


def test_demo_serves_without_slack_and_says_what_to_try(tmp_path: Path) -> None:
    """Without Slack variables the demo is healthy, answers Slack with 503, and prints next steps."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    database = tmp_path / "demo.db"
    port = free_port()

    with serving(
        ["demo", "--port", str(port), "--database", str(database)], cwd=workdir, env=clean_env(), port=port
    ) as server:
        health = httpx.get(f"{server.base_url}/healthz", timeout=10)
        slack = httpx.post(f"{server.base_url}/slack/events", content=b"", timeout=10)

    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert slack.status_code == 503
    assert "SLACK_BOT_TOKEN" in slack.json()["error"]
    assert database.exists()
    stdout = server.stdout
    assert "Try:" in stdout
    assert f"curl {server.base_url}/healthz" in stdout
    assert "interview list --study" in stdout
    assert "SLACK_BOT_TOKEN" in stdout
