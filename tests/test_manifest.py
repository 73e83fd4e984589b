"""``manifest.yml`` is a valid Slack app manifest, and what it promises the app actually handles."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7
from slack_bolt import App, BoltRequest

from bot.services import Services
from bot.settings import Settings
from bot.slack_app import build_bolt_app
from tests.conftest import ADA, CHANNEL, SIGNING_SECRET, WORKSPACE
from tests.support import slack_requests
from tests.support.fake_slack import FakeSlackAPI

REPOSITORY = Path(__file__).resolve().parents[1]
MANIFEST = REPOSITORY / "manifest.yml"
SCHEMA_DIR = (REPOSITORY / ".." / "shared" / "reference" / "slack-manifest-schema").resolve()
SLACK_EVENTS_PATH = "/slack/events"


def _remote_refs(node: Any) -> Iterator[str]:
    """Every absolute ``$ref`` in a schema (the versioned schemas, on GitHub)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            yield ref.split("#", 1)[0]
        for value in node.values():
            yield from _remote_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _remote_refs(value)


def _no_network(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    """Slack's manifest schema, with its remote references served from the local copies."""
    entry = SCHEMA_DIR / "manifest.schema.json"
    if not entry.is_file():
        reason = f"Slack's manifest schema is not at {SCHEMA_DIR} (the shared reference folder beside the repository)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    schema = json.loads(entry.read_text(encoding="utf-8"))
    resources = []
    for uri in sorted(set(_remote_refs(schema))):
        local = SCHEMA_DIR / uri.rsplit("/", 1)[-1]
        assert local.is_file(), f"{uri} has no local copy at {local}"
        contents = json.loads(local.read_text(encoding="utf-8"))
        resources.append((uri, Resource.from_contents(contents, default_specification=DRAFT7)))
    assert resources, "manifest.schema.json refers to no versioned schema"
    registry: Registry[Any] = Registry(retrieve=_no_network).with_resources(resources)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "manifest.yml is not a mapping"
    return loaded


def _leaves(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    if not error.context:
        yield error
    for sub in error.context:
        yield from _leaves(sub)


def _problems(validator: jsonschema.Draft7Validator, document: dict[str, Any]) -> list[str]:
    """The most specific messages first: the entry schema's ``oneOf`` alone only says "not valid"."""
    leaves = {leaf for error in validator.iter_errors(document) for leaf in _leaves(error)}
    ordered = sorted(leaves, key=lambda leaf: (-len(leaf.absolute_path), leaf.json_path, leaf.message))
    return list(dict.fromkeys(f"{leaf.json_path}: {leaf.message}" for leaf in ordered))


def _commands(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return list(manifest.get("features", {}).get("slash_commands", []))


# ---------------------------------------------------------------- the schema


def test_manifest_is_valid_against_slacks_schema(validator: jsonschema.Draft7Validator, manifest: dict[str, Any]) -> None:
    assert _problems(validator, manifest) == []


def test_schema_check_catches_a_broken_manifest(validator: jsonschema.Draft7Validator, manifest: dict[str, Any]) -> None:
    """The versioned schema is really consulted: a slash command without a description is refused."""
    broken = json.loads(json.dumps(manifest))
    del broken["features"]["slash_commands"][0]["description"]

    assert not validator.is_valid(broken)


# ---------------------------------------------------------------- what the manifest promises


def test_bot_scopes_include_commands(manifest: dict[str, Any]) -> None:
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]


def test_interactivity_and_commands_point_at_slack_events(manifest: dict[str, Any]) -> None:
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith(SLACK_EVENTS_PATH)
    assert _commands(manifest), "the manifest declares no slash command"
    for command in _commands(manifest):
        assert command["url"].endswith(SLACK_EVENTS_PATH), command


def test_socket_mode_is_enabled(manifest: dict[str, Any]) -> None:
    assert manifest["settings"]["socket_mode_enabled"] is True


# ---------------------------------------------------------------- the app handles every command


@pytest.fixture
def bolt_app(settings: Settings, services: Services) -> App:
    return build_bolt_app(settings, services)


def _dispatch_command(app: App, command: str, fake: FakeSlackAPI) -> Any:
    body = slack_requests.slash_command(
        command, "", user_id=ADA, team_id=WORKSPACE, channel_id=CHANNEL, response_url=fake.response_url("manifest"),
    )
    return app.dispatch(BoltRequest(body=body, headers=slack_requests.sign(body, SIGNING_SECRET)))


def test_every_manifest_command_has_a_listener(bolt_app: App, manifest: dict[str, Any], fake_slack: FakeSlackAPI) -> None:
    """Each declared command, sent signed to the app, is acknowledged (200) rather than unhandled (404)."""
    answers = {command["command"]: _dispatch_command(bolt_app, command["command"], fake_slack).status for command in _commands(manifest)}

    assert answers and all(status == 200 for status in answers.values()), answers


def test_a_command_without_listener_is_unhandled(bolt_app: App, fake_slack: FakeSlackAPI) -> None:
    """The check above can fail: a command the app does not know is answered 404."""
    assert _dispatch_command(bolt_app, "/not-interview-desk", fake_slack).status == 404
