"""The `/interviews` list: Upcoming and Past tabs, one row per interview, Previous / Next."""

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks import text
from blocks.ids import ActionId, ListPosition
from blocks.interview_actions import controls
from bot.domain import InterviewPage, InterviewSummary, ListTab


def _count(value: int, cap: int) -> str:
    return f"{cap}+" if value >= cap else str(value)


def _tabs(page: InterviewPage) -> ActionsBlock:
    def tab(which: ListTab, label: str, count: int) -> ButtonElement:
        return ButtonElement(
            text=f"{label} ({_count(count, page.count_cap)})",
            action_id=ActionId.LIST_SHOW_UPCOMING if which is ListTab.UPCOMING else ActionId.LIST_SHOW_PAST,
            value=ListPosition(tab=which.value).encode(),
            style="primary" if page.tab is which else None,
        )

    return ActionsBlock(
        block_id="interview_list.tabs",
        elements=[
            tab(ListTab.UPCOMING, "Upcoming", page.upcoming_count),
            tab(ListTab.PAST, "Past", page.past_count),
        ],
    )


def row_text(summary: InterviewSummary) -> str:
    when = text.date_token(summary.starts_at)
    first = (
        f"*{when}* · {text.duration(summary.duration_minutes)} · "
        f"{text.escape(text.truncate(summary.session_name, 150))}"
    )
    outcome = text.outcome(summary)
    if outcome:
        first += f" · *{outcome}*"
    return text.truncate(f"{first}\n{text.invitees(summary)}", 3000)


def _row(summary: InterviewSummary) -> list[Block]:
    return [
        SectionBlock(block_id=f"interview.{summary.id}", text=MarkdownTextObject(text=row_text(summary))),
        ActionsBlock(
            block_id=f"interview.{summary.id}.actions",
            elements=controls(summary, with_details=True),
        ),
    ]


def _navigation(page: InterviewPage) -> list[Block]:
    first, last = page.offset + 1, page.offset + len(page.items)
    total = _count(page.total, page.count_cap)
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=f"Showing {first}–{last} of {total}")])
    ]
    buttons = []
    if page.has_previous and page.first_key is not None:
        back = ListPosition(
            tab=page.tab.value, key=page.first_key, direction="before", offset=page.offset
        )
        buttons.append(ButtonElement(text="‹ Previous", action_id=ActionId.LIST_PREVIOUS, value=back.encode()))
    if page.has_next and page.last_key is not None:
        forward = ListPosition(
            tab=page.tab.value, key=page.last_key, direction="after", offset=last
        )
        buttons.append(ButtonElement(text="Next ›", action_id=ActionId.LIST_NEXT, value=forward.encode()))
    if buttons:
        blocks.append(ActionsBlock(block_id="interview_list.pages", elements=buttons))
    return blocks


def interview_list(page: InterviewPage) -> list[Block]:
    title = f"*{text.escape(page.study.name)}* · {'Upcoming' if page.tab is ListTab.UPCOMING else 'Past'} interviews"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=title)), _tabs(page), DividerBlock()]
    if not page.items:
        empty = (
            "No upcoming interviews. Invite participants with `/interviews invite`, or book one with `/interviews book`."
            if page.tab is ListTab.UPCOMING
            else "No past interviews yet."
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=empty)))
        return blocks
    for summary in page.items:
        blocks.extend(_row(summary))
    blocks.extend(_navigation(page))
    return blocks


def fallback_text(page: InterviewPage) -> str:
    """The notification / screen-reader text that goes with the blocks (mrkdwn, hence escaped)."""
    return f"{text.escape(page.study.name)}: {page.total} {page.tab.value} interviews"
