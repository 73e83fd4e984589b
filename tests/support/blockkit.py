"""Block Kit validation for tests.

Two layers of checks are combined:

* ``slack_sdk``'s own models (``Block.parse`` / ``View``), whose validators cover
  most documented length limits; blocks and elements the SDK does not know are
  reported instead of being silently dropped.
* A small set of Slack rules checked directly on the raw JSON, where the SDK is
  lenient or does not look (text objects given as plain strings, option limits,
  unique ``block_id`` values, modal title lengths, ...).

Every function returns human-readable problems; an empty list means "valid".
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

__all__ = [
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "assert_valid_message",
    "assert_valid_view",
    "message_block_errors",
    "view_errors",
]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

MAX_ID_LENGTH = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OVERFLOW_OPTIONS = 5
MAX_SELECT_OPTIONS = 100
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_PRIVATE_METADATA = 3000
MAX_MODAL_TEXT = 24

_SELECT_TYPES = frozenset({"static_select", "multi_static_select"})
_TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
_SDK_LOGGER = "slack_sdk.models"


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def message_block_errors(blocks: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """Return the problems Slack would reject in a message's ``blocks`` array."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return [f"blocks must be an array, got {type(blocks).__name__}"]
    problems: list[str] = []
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        problems.append(f"a message may contain at most {MAX_MESSAGE_BLOCKS} blocks, got {len(blocks)}")
    problems.extend(_sdk_block_problems(blocks))
    problems.extend(_block_rule_problems(blocks))
    return _unique(problems)


def view_errors(view: Mapping[str, Any] | None) -> list[str]:
    """Return the problems Slack would reject in a modal or Home tab ``view``."""
    if not isinstance(view, Mapping):
        return [f"view must be an object, got {type(view).__name__}"]
    problems: list[str] = []
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("view.blocks must be an array")
        blocks = []
    elif len(blocks) > MAX_VIEW_BLOCKS:
        problems.append(f"a view may contain at most {MAX_VIEW_BLOCKS} blocks, got {len(blocks)}")

    try:
        with _sdk_warnings() as warnings:
            View(**copy.deepcopy(dict(view))).validate_json()
        problems.extend(f"view: {message}" for message in warnings)
    except Exception as exc:  # noqa: BLE001 - any SDK failure is a validation problem
        problems.append(f"view: {exc}")

    problems.extend(_view_rule_problems(view, blocks))
    problems.extend(_sdk_block_problems(blocks))
    problems.extend(_block_rule_problems(blocks))
    return _unique(problems)


def assert_valid_message(blocks: Sequence[Mapping[str, Any]] | None) -> None:
    """Raise ``AssertionError`` listing every problem in a message's blocks."""
    problems = message_block_errors(blocks)
    if problems:
        raise AssertionError("invalid message blocks:\n  - " + "\n  - ".join(problems))


def assert_valid_view(view: Mapping[str, Any] | None) -> None:
    """Raise ``AssertionError`` listing every problem in a view."""
    problems = view_errors(view)
    if problems:
        raise AssertionError("invalid view:\n  - " + "\n  - ".join(problems))


# ---------------------------------------------------------------------------
# slack_sdk model validation
# ---------------------------------------------------------------------------


class _ThreadWarnings(logging.Handler):
    """Collect warnings logged by slack_sdk's models on one thread only."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def _sdk_warnings() -> Iterator[list[str]]:
    """Capture what slack_sdk reports as "unknown ... detected and skipped"."""
    handler = _ThreadWarnings()
    logger = logging.getLogger(_SDK_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def _sdk_block_problems(blocks: Sequence[Any]) -> list[str]:
    """Parse each block with slack_sdk and run its validators, recursively."""
    problems: list[str] = []
    for index, raw in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: a block must be an object, got {type(raw).__name__}")
            continue
        where = f"{where} ({raw.get('type', '?')})"
        try:
            with _sdk_warnings() as warnings:
                block = Block.parse(copy.deepcopy(dict(raw)))
                if block is not None:
                    block.validate_json()
                    block.to_dict()  # validates nested elements and composition objects
        except Exception as exc:  # noqa: BLE001 - any SDK failure is a validation problem
            problems.append(f"{where}: {exc}")
            continue
        if block is None:
            problems.append(f"{where}: unknown block type {raw.get('type')!r}")
            continue
        problems.extend(f"{where}: {message}" for message in warnings)
    return problems


# ---------------------------------------------------------------------------
# Rules checked on the raw JSON
# ---------------------------------------------------------------------------


def _view_rule_problems(view: Mapping[str, Any], blocks: Sequence[Any]) -> list[str]:
    problems: list[str] = []
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        problems.append(f"view.type must be 'modal' or 'home', got {view_type!r}")
    if view_type == "modal":
        if "title" not in view:
            problems.append("view.title is required for modals")
        for key in ("title", "submit", "close"):
            if key in view:
                problems.extend(_text_problems(view[key], f"view.{key}", MAX_MODAL_TEXT, plain_only=True))
        has_input = any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks)
        if has_input and "submit" not in view:
            problems.append("view.submit is required when a modal contains input blocks")
    metadata = view.get("private_metadata")
    if metadata is not None:
        if not isinstance(metadata, str):
            problems.append("view.private_metadata must be a string")
        elif len(metadata) > MAX_PRIVATE_METADATA:
            problems.append(
                f"view.private_metadata is {len(metadata)} characters, the maximum is {MAX_PRIVATE_METADATA}"
            )
    for key in ("callback_id", "external_id"):
        problems.extend(_id_problems(view.get(key), f"view.{key}"))
    return problems


def _block_rule_problems(blocks: Sequence[Any]) -> list[str]:
    problems: list[str] = []
    seen_block_ids: dict[str, int] = {}
    for index, block in enumerate(blocks):
        if not isinstance(block, Mapping):
            continue
        where = f"blocks[{index}]"
        block_id = block.get("block_id")
        if block_id is not None:
            problems.extend(_id_problems(block_id, f"{where}.block_id"))
            if block_id in seen_block_ids:
                problems.append(
                    f"{where}.block_id {block_id!r} duplicates blocks[{seen_block_ids[block_id]}].block_id"
                )
            else:
                seen_block_ids[block_id] = index
        problems.extend(_duplicate_action_ids(block, where))
        for path, node in _walk(block, where):
            problems.extend(_node_problems(node, path))
    return problems


def _duplicate_action_ids(block: Mapping[str, Any], where: str) -> list[str]:
    seen: set[str] = set()
    problems: list[str] = []
    for path, node in _walk(block, where):
        action_id = node.get("action_id")
        if isinstance(action_id, str):
            if action_id in seen:
                problems.append(f"{path}.action_id {action_id!r} is not unique within its block")
            seen.add(action_id)
    return problems


def _node_problems(node: Mapping[str, Any], path: str) -> list[str]:
    """Rules for one JSON object, chosen by its ``type``."""
    problems = _id_problems(node.get("action_id"), f"{path}.action_id")
    kind = node.get("type")
    if kind == "button":
        problems += _text_problems(node.get("text"), f"{path}.text", MAX_BUTTON_TEXT, plain_only=True)
        problems += _max_length(node.get("value"), f"{path}.value", MAX_BUTTON_VALUE)
    elif kind == "overflow":
        options = node.get("options")
        count = len(options) if isinstance(options, list) else 0
        if not 1 <= count <= MAX_OVERFLOW_OPTIONS:
            problems.append(f"{path} (overflow) must have 1-{MAX_OVERFLOW_OPTIONS} options, got {count}")
    elif kind in _SELECT_TYPES:
        options = node.get("options")
        if isinstance(options, list) and len(options) > MAX_SELECT_OPTIONS:
            problems.append(f"{path} ({kind}) may have at most {MAX_SELECT_OPTIONS} options, got {len(options)}")
    elif kind == "section":
        if "text" not in node and "fields" not in node:
            problems.append(f"{path} (section) needs text or fields")
        if "text" in node:
            problems += _text_problems(node["text"], f"{path}.text", MAX_SECTION_TEXT)
        fields = node.get("fields")
        if isinstance(fields, list):
            if len(fields) > MAX_SECTION_FIELDS:
                problems.append(f"{path}.fields may have at most {MAX_SECTION_FIELDS} items, got {len(fields)}")
            for i, field in enumerate(fields):
                problems += _text_problems(field, f"{path}.fields[{i}]", MAX_SECTION_FIELD_TEXT)
    elif kind == "header":
        problems += _text_problems(node.get("text"), f"{path}.text", MAX_HEADER_TEXT, plain_only=True)
    elif kind == "input":
        problems += _text_problems(node.get("label"), f"{path}.label", MAX_SECTION_FIELD_TEXT, plain_only=True)
    elif kind == "actions":
        elements = node.get("elements")
        if isinstance(elements, list) and len(elements) > MAX_ACTIONS_ELEMENTS:
            problems.append(f"{path} (actions) may have at most {MAX_ACTIONS_ELEMENTS} elements, got {len(elements)}")
    elif kind == "context":
        elements = node.get("elements")
        if isinstance(elements, list) and len(elements) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"{path} (context) may have at most {MAX_CONTEXT_ELEMENTS} elements, got {len(elements)}")

    for key in ("options", "initial_options"):
        if isinstance(node.get(key), list):
            for i, option in enumerate(node[key]):
                problems += _option_problems(option, f"{path}.{key}[{i}]")
    if isinstance(node.get("initial_option"), Mapping):
        problems += _option_problems(node["initial_option"], f"{path}.initial_option")
    return problems


def _option_problems(option: Any, path: str) -> list[str]:
    if not isinstance(option, Mapping):
        return [f"{path}: an option must be an object"]
    problems = _text_problems(option.get("text"), f"{path}.text", MAX_OPTION_TEXT)
    value = option.get("value")
    if value is None:
        problems.append(f"{path}.value is required")
    else:
        problems += _max_length(value, f"{path}.value", MAX_OPTION_VALUE)
    return problems


def _text_problems(text: Any, path: str, limit: int, *, plain_only: bool = False) -> list[str]:
    """Check a composition text object (``{"type": "plain_text", "text": ...}``)."""
    if not isinstance(text, Mapping):
        return [f"{path} must be a text object, got {type(text).__name__}"]
    kind = text.get("type")
    allowed = ("plain_text",) if plain_only else tuple(sorted(_TEXT_TYPES))
    if kind not in allowed:
        return [f"{path}.type must be {' or '.join(allowed)}, got {kind!r}"]
    value = text.get("text")
    if not isinstance(value, str) or not value:
        return [f"{path}.text must be a non-empty string"]
    return _max_length(value, f"{path}.text", limit)


def _id_problems(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{path} must be a string"]
    return _max_length(value, path, MAX_ID_LENGTH)


def _max_length(value: Any, path: str, limit: int) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"{path} is {len(value)} characters, the maximum is {limit}"]
    return []


def _walk(node: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield ``(path, object)`` for every JSON object under ``node``, itself included."""
    if isinstance(node, Mapping):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def _unique(problems: list[str]) -> list[str]:
    return list(dict.fromkeys(problems))
