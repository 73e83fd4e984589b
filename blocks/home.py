"""The App Home tab: the viewer's own upcoming interviews, with the same controls as the list."""


from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks import text
from blocks.interview_actions import controls, join_meeting_button
from bot.domain import HomeInterview, HomePage
from storage.enums import AttendeeRole

EMPTY = "You have no upcoming interviews as a host or guest."
HINT = (
    "Type `/interviews` in a study's channel to see all its interviews, or `/interviews setup` "
    "in a channel to start a study there."
)


def _row_text(row: HomeInterview) -> str:
    s = row.summary
    you = "You host" if row.role is AttendeeRole.HOST else "You're a guest"
    lines = [
        f"*{text.time_range(s.starts_at, s.ends_at)}* · {text.duration(s.duration_minutes)} · "
        f"*{text.escape(text.truncate(row.study.name, 200))}*",
        f"{text.escape(text.truncate(s.session_name, 150))} · {you}",
        text.invitees(s),
    ]
    return text.truncate("\n".join(lines), 3000)


def _row(row: HomeInterview) -> list[Block]:
    s = row.summary
    blocks: list[Block] = [SectionBlock(block_id=f"home.{s.id}", text=MarkdownTextObject(text=_row_text(row)))]
    # Actions are the research team's; anyone attending may still join the call.
    elements = controls(s, with_details=True) if row.can_act else ([join_meeting_button(s)] if s.meeting_is_joinable else [])
    if elements:
        blocks.append(ActionsBlock(block_id=f"home.{s.id}.actions", elements=elements))
    return blocks


def home_view(home: HomePage) -> View:
    blocks: list[Block] = [
        HeaderBlock(text="Your upcoming interviews"),
        ContextBlock(elements=[MarkdownTextObject(
            text="Interviews you host or are a guest at, in every study, soonest first. Times are in your time zone."
        )]),
        DividerBlock(),
    ]
    if not home.items:
        blocks.append(SectionBlock(block_id="home.empty", text=MarkdownTextObject(text=EMPTY)))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=HINT)]))
        return View(type="home", blocks=blocks)
    for row in home.items:
        blocks.extend(_row(row))
    if home.has_more:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"Showing the next {home.limit}. `/interviews` in a study's channel lists all of its interviews."
        )]))
    return View(type="home", blocks=blocks)
