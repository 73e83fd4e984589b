"""Strategies for fuzzing Slack payloads: junk values, hostile text, and mutations of real shapes.

A mutation starts from a payload the app really receives and changes one to three places in it:
a field is removed, given a value of another type, or given hostile text. Starting from real
shapes reaches the listeners' own code instead of stopping at the first missing key.
"""

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hypothesis import strategies as st

from blocks.book_modal import HOST as BOOK_HOST
from blocks.book_modal import PARTICIPANT as BOOK_PARTICIPANT
from blocks.book_modal import WHEN as BOOK_WHEN
from blocks.change_modals import ChangeBlock
from blocks.email_modals import (
    AMOUNT,
    BODY,
    CLAIM_URL,
    CODE,
    CONFIRM,
    CURRENCY,
    RECIPIENTS,
    SUBJECT,
)
from blocks.email_modals import MESSAGE as INCENTIVE_MESSAGE
from blocks.email_modals import PARTICIPANT as INCENTIVE_PARTICIPANT
from blocks.ids import ActionId, CallbackId
from blocks.invite import OPTIONS_BLOCK, OPTIONS_INPUT, PEOPLE_BLOCK, PEOPLE_INPUT
from blocks.outcome_modals import COMPLETED_CALLBACK, WHO_PREFIX
from blocks.outcome_modals import MESSAGE as CANCEL_MESSAGE
from blocks.study_setup import SetupBlock
from bot.actions import InterviewAction

# Text that has broken parsers and renderers before: markup, Slack controls, directionality,
# combining marks, astral planes, NUL and separators that are not newlines.
HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    "<!channel> <!here> <@U0ADA> <#C0STUDY>",
    "*bold* _it_ ~gone~ `code` ```block```",
    "&lt;&amp;&gt; &#x3c;",
    "\u202eevil\u202c \u200f\u05e9\u05dc\u05d5\u05dd\u200e",
    "مرحبا بالعالم",
    "日本語のテキスト、中文，한국어",
    "👩🏽‍🔬🧪 ZWJ \u200d",
    "e\u0301\u0301\u0301 Z\u0336a\u0336",
    "\x00\x01\x7f",
    "\u2028\u2029\r\n\t",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0001f4a9",
    "' OR 1=1; --",
    "%s %(x)s {0} {{x}} ${x}",
    "\\",
    "null",
    "-1",
    "9" * 40,
]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=60),
    # Very long (Slack's own limits are 3,000 to 4,000 characters), in scripts that take several
    # bytes a character.
    st.tuples(st.sampled_from(["x", "ж", "語", "🧪", "\u05e9", "<"]), st.integers(3_000, 12_000)).map(
        lambda pair: pair[0] * pair[1]
    ),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)

junk: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)

Path = tuple[str | int, ...]


# Every interview action's modal, by its callback id: what a submission of it asks to do.
ACTION_MODALS = {
    CallbackId.RESCHEDULE: InterviewAction.RESCHEDULE,
    CallbackId.CHANGE_HOST: InterviewAction.CHANGE_HOST,
    CallbackId.EDIT_DETAILS: InterviewAction.EDIT_DETAILS,
    CallbackId.CHANGE_LIMIT: InterviewAction.CHANGE_LIMIT,
    CallbackId.ADD_GUEST: InterviewAction.ADD_GUEST,
    CallbackId.COMPOSE_EMAIL: InterviewAction.CUSTOM_EMAIL,
    CallbackId.INCENTIVE_EMAIL: InterviewAction.INCENTIVE_EMAIL,
    CallbackId.CONFIRM_INCENTIVE: InterviewAction.INCENTIVE_EMAIL,
    CallbackId.CANCEL: InterviewAction.CANCEL,
    CallbackId.NO_SHOW: InterviewAction.MARK_NO_SHOW,
    COMPLETED_CALLBACK: InterviewAction.MARK_COMPLETED,
}


def paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every place in a JSON document, parents before children."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from paths(value, (*prefix, index))


def _parent(document: Any, path: Path) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], *, most: int = 3) -> dict[str, Any]:
    """``base`` with one to ``most`` places removed, retyped or filled with hostile text."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, most))):
        places = list(paths(document))
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent, key = _parent(document, path), path[-1]
        how = draw(st.sampled_from(["remove", "junk", "text"]))
        if how == "remove":
            del parent[key]
        else:
            parent[key] = draw(junk if how == "junk" else hostile_text)
    return document


# ---------------------------------------------------------------- modal state

# Every input block of every modal, with the action id its element uses.
INPUT_BLOCKS: list[tuple[str, str]] = [
    *((block.value, "value") for block in ChangeBlock),
    *((block, "value") for block in (RECIPIENTS, SUBJECT, BODY, INCENTIVE_PARTICIPANT, AMOUNT, CURRENCY, CODE,
                                      CLAIM_URL, INCENTIVE_MESSAGE, CONFIRM)),
    *((block, "value") for block in (BOOK_PARTICIPANT, BOOK_WHEN, BOOK_HOST, CANCEL_MESSAGE, f"{WHO_PREFIX}0")),
    (PEOPLE_BLOCK, PEOPLE_INPUT),
    (OPTIONS_BLOCK, OPTIONS_INPUT),
    *((block.value, ActionId.SETUP_FIELD.value) for block in SetupBlock),
    (SetupBlock.HOSTS.value, ActionId.SETUP_HOSTS.value),
]

ELEMENT_TYPES = [
    "plain_text_input", "static_select", "multi_static_select", "users_select", "multi_users_select",
    "checkboxes", "radio_buttons", "datetimepicker", "timepicker", "datepicker", "email_text_input",
    "url_text_input", "number_input", "conversations_select",
]


def _option(value: Any) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": str(value)[:75]}, "value": value}


element_state = st.fixed_dictionaries(
    {"type": st.sampled_from(ELEMENT_TYPES) | junk},
    optional={
        "value": hostile_text | junk,
        "selected_option": st.builds(_option, hostile_text | junk) | junk,
        "selected_options": st.lists(st.builds(_option, hostile_text | junk), max_size=3) | junk,
        "selected_user": st.sampled_from(["U0ADA", "U0BO", "U0EVE", "UNOBODY"]) | junk,
        "selected_users": st.lists(st.sampled_from(["U0ADA", "U0BO", "U0EVE"]) | hostile_text, max_size=3) | junk,
        "selected_date_time": st.integers(-(2**40), 2**40) | junk,
        "selected_date": st.sampled_from(["2030-03-08", "2030-02-30", "0000-00-00"]) | hostile_text,
        "selected_time": st.sampled_from(["10:00", "25:61", ""]) | hostile_text,
    },
)


@st.composite
def state_values(draw: st.DrawFn) -> dict[str, Any]:
    """``view.state.values`` with some of the real input blocks, each holding fuzzed input."""
    chosen = draw(st.lists(st.sampled_from(INPUT_BLOCKS), max_size=6, unique=True))
    values: dict[str, Any] = {block: {action: draw(element_state)} for block, action in chosen}
    if draw(st.booleans()):
        values[draw(st.text(max_size=20))] = draw(junk)
    return values


# ---------------------------------------------------------------- bodies


def form_payload(payload: Any) -> str:
    """An interactivity body: ``payload=<json>``, form-encoded."""
    return urlencode({"payload": json.dumps(payload)})


def payload_of(body: str) -> dict[str, Any]:
    """The JSON document inside a form-encoded ``payload=`` body."""
    return json.loads(dict(parse_qsl(body))["payload"])


def form_fields(body: str) -> dict[str, str]:
    return dict(parse_qsl(body, keep_blank_values=True))
