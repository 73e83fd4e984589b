"""Every email renders, says the same in text and HTML, and escapes what users typed."""

import html
import re
from typing import Any

import jinja2
import pytest

from bot.integrations.templates import environment, render_email
from tests.integrations.samples import CONTEXTS

NAMES = sorted(CONTEXTS)
# What a participant answers the invite with (the team's copies of an update have none).
ATTENDANCE_LINKS = ("confirm_url", "rsvp_yes_url", "rsvp_maybe_url", "rsvp_no_url")
WITH_ATTENDANCE = ("booking_confirmation", "reschedule_confirmation", "invite_update")
REQUIRED_ONLY: dict[str, tuple[str, ...]] = {
    "booking_confirmation": ("meeting_url", "meeting_password", *ATTENDANCE_LINKS),
    "reschedule_confirmation": ("meeting_url", "meeting_password", *ATTENDANCE_LINKS),
    "cancellation": ("reason", "scheduling_url"),
    "host_booking_notice": ("meeting_url",),
    "invite_update": (
        "previous_when", "meeting_url", "meeting_password", "description", "reason", "manage_url", *ATTENDANCE_LINKS,
    ),
    "invite_guest": ("meeting_url", "meeting_password", "description"),
    "host_change_new_host": ("meeting_url", "meeting_password"),
    "team_cancellation": ("message", "sender_name", "scheduling_url"),
    "team_cancellation_notice": ("message",),
    "slot_opened": ("waitlist_url",),
    "reminder_participant": ("meeting_url", "meeting_password", "confirm_url"),
    "reminder_host": ("meeting_url", "meeting_password", "unconfirmed"),
}


def visible_text(markup: str) -> str:
    """The words a reader sees in the HTML part, with entities decoded."""
    body = markup.split("<body", 1)[1]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


def links(markup: str) -> set[str]:
    return {html.unescape(href) for href in re.findall(r'href="([^"]*)"', markup)}


def test_every_email_has_its_three_templates() -> None:
    templates = set(environment().list_templates())
    for name in NAMES:
        for part in ("subject.txt", "txt", "html"):
            assert f"email/{name}.{part}.j2" in templates


@pytest.mark.parametrize("name", NAMES)
def test_renders_and_both_parts_say_the_same(name: str) -> None:
    context = CONTEXTS[name]
    email = render_email(name, **context)

    assert email.subject and "\n" not in email.subject
    assert email.html.startswith("<!DOCTYPE html>")
    assert email.text.endswith("\n") and "\n\n\n" not in email.text
    seen = visible_text(email.html)
    for key, value in context.items():
        shown = str(value)
        if shown in email.subject and shown not in email.text:
            continue  # a subject-line value (e.g. what kind of update) need not be repeated
        assert shown in email.text, f"{key} missing from the text part"
        assert shown in seen or shown in links(email.html), f"{key} missing from the HTML part"
    text_links = set(re.findall(r"https://\S+", email.text))
    assert text_links == links(email.html)


@pytest.mark.parametrize("name", sorted(REQUIRED_ONLY))
def test_optional_values_may_be_left_out_or_none(name: str) -> None:
    optional = REQUIRED_ONLY[name]
    required = {k: v for k, v in CONTEXTS[name].items() if k not in optional}
    left_out = render_email(name, **required)
    as_none = render_email(name, **required, **dict.fromkeys(optional))

    assert left_out == as_none
    for key in optional:
        assert str(CONTEXTS[name][key]) not in left_out.text
        assert "None" not in left_out.text and "None" not in left_out.html


def buttons(markup: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]+)" style="display:inline-block[^>]*>([^<]+)</a>', markup)


def labelled_links(text: str) -> list[tuple[str, str]]:
    """The text part's "Label: https://…" lines, as (link, label)."""
    return [(url, label) for label, url in re.findall(r"^([A-Z][\w ]*): (https://\S+)$", text, re.MULTILINE)]


def test_booking_confirmation_has_one_button_per_purpose() -> None:
    email = render_email("booking_confirmation", **CONTEXTS["booking_confirmation"])
    assert buttons(email.html) == [
        ("https://desk.example.com/c/tok-3", "Confirm attendance"),
        ("https://desk.example.com/r/tok-4/yes", "Yes"),
        ("https://desk.example.com/r/tok-4/maybe", "Maybe"),
        ("https://desk.example.com/r/tok-4/no", "No"),
        ("https://desk.example.com/m/tok-2", "Reschedule or cancel"),
    ]
    assert "(Europe/Berlin)" in email.text and "(Europe/Berlin)" in email.html


@pytest.mark.parametrize("name", WITH_ATTENDANCE)
def test_the_answers_to_the_invite_read_the_same_in_text_and_html(name: str) -> None:
    email = render_email(name, **CONTEXTS[name])
    answers = [(CONTEXTS[name][key], label) for key, label in zip(
        ATTENDANCE_LINKS, ("Confirm attendance", "Yes", "Maybe", "No"), strict=True,
    )]
    assert [b for b in buttons(email.html) if b in answers] == answers
    assert [link for link in labelled_links(email.text) if link in answers] == answers
    assert "Please let us know you'll be there:" in email.text
    assert "Please let us know you'll be there:" in visible_text(email.html)


@pytest.mark.parametrize("name", WITH_ATTENDANCE)
def test_without_a_confirm_link_the_invite_still_asks_yes_maybe_or_no(name: str) -> None:
    email = render_email(name, **dict(CONTEXTS[name], confirm_url=None))
    assert [label for _, label in buttons(email.html)][:3] == ["Yes", "Maybe", "No"]
    assert "Will you be there?" in email.text and "Will you be there?" in visible_text(email.html)
    assert "Confirm attendance" not in email.text + email.html


def test_user_values_are_escaped_in_html_and_verbatim_in_text() -> None:
    context = dict(
        CONTEXTS["booking_confirmation"],
        participant_name="<script>alert('x')</script> Zoë",
        study_name='Tom & Jerry "quoted"',
    )
    email = render_email("booking_confirmation", **context)

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Zoë" in email.html
    assert "Tom &amp; Jerry &#34;quoted&#34;" in email.html
    assert "&amp;amp;" not in email.html  # escaped once, not twice
    assert "Hi <script>alert('x')</script> Zoë," in email.text
    assert 'Tom & Jerry "quoted"' in email.subject


def test_only_web_links_become_buttons() -> None:
    context = dict(CONTEXTS["booking_confirmation"], meeting_url="javascript:alert(1)")
    email = render_email("booking_confirmation", **context)
    assert "javascript:" not in "".join(links(email.html))
    assert "javascript:alert(1)" in visible_text(email.html)


def test_a_newline_in_a_name_cannot_break_the_subject() -> None:
    context = dict(CONTEXTS["cancellation"], study_name="Checkout\nBcc: someone@example.com")
    assert "\n" not in render_email("cancellation", **context).subject


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_variable_is_an_error(name: str) -> None:
    context: dict[str, Any] = dict(CONTEXTS[name])
    del context["study_name"]
    with pytest.raises(jinja2.UndefinedError, match="study_name"):
        render_email(name, **context)


def test_an_unknown_email_is_an_error() -> None:
    with pytest.raises(jinja2.TemplateNotFound):
        render_email("no_such_email")
