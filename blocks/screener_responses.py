"""The screener responses modal: each participant's questions and answers, and whether they
qualified. Answers are participant input, so everything is escaped, and long ones are cut."""


from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks import text
from bot.domain import InterviewScreener, ScreenerResponses

TITLE = "Screener responses"
MAX_BLOCKS = 100  # a modal's limit
MAX_ANSWER_CHARS = 1500
MAX_QUESTION_CHARS = 500



def _escaped(raw: str, limit: int) -> str:
    """``raw`` escaped, cut to ``limit`` characters of mrkdwn (cut before escaping, so an
    entity such as ``&lt;`` is never split; escaping can only lengthen it)."""
    cut = text.truncate(raw, limit)
    while len(escaped := text.escape(cut)) > limit:
        cut = text.truncate(cut, len(cut) - (len(escaped) - limit))
    return escaped


def _verdict(qualified: bool | None) -> str:
    if qualified is None:
        return "not answered"
    return "✓ Qualified" if qualified else "✗ Not qualified"


def _participant(index: int, person: ScreenerResponses, room: int) -> list[Block]:
    """The participant's name and verdict, then their answers, in at most ``room`` blocks."""
    name = _escaped(person.name, 200)
    blocks: list[Block] = [
        SectionBlock(block_id=f"screener.{index}", text=MarkdownTextObject(text=f"*{name}* · {_verdict(person.qualified)}"))
    ]
    if not person.answers:
        blocks.append(ContextBlock(block_id=f"screener.{index}.none", elements=[MarkdownTextObject(text="No screener answers yet.")]))
        return blocks
    answers = list(person.answers)
    fits = answers if len(answers) <= room - 1 else answers[: max(0, room - 2)]
    for n, answer in enumerate(fits):
        question = _escaped(answer.question, MAX_QUESTION_CHARS)
        said = _escaped(answer.answer, MAX_ANSWER_CHARS) or "_(blank)_"
        blocks.append(SectionBlock(block_id=f"screener.{index}.{n}", text=MarkdownTextObject(text=f"*{question}*\n{said}")))
    if len(fits) < len(answers):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(answers) - len(fits)} more answers, not shown here.")]))
    return blocks


def screener_view(data: InterviewScreener) -> View:
    header: list[Block] = [
        SectionBlock(
            block_id="screener.interview",
            text=MarkdownTextObject(
                text=f"*{text.escape(text.truncate(data.session_name, 150))}* · {text.date_token(data.starts_at)}\n"
                f"{text.escape(text.truncate(data.study_name, 200))}"
            ),
        )
    ]
    body: list[Block] = []
    if not data.participants:
        body.append(SectionBlock(text=MarkdownTextObject(text="This interview has no participants.")))
    shown = 0
    for i, person in enumerate(data.participants):
        divider: list[Block] = [DividerBlock()] if body else []
        # What is left, keeping one block for the "more participants" line.
        room = MAX_BLOCKS - len(header) - len(body) - len(divider) - 1
        if room < 3:  # a name and a line at least
            break
        body.extend(divider + _participant(i, person, room))
        shown += 1
    hidden = len(data.participants) - shown
    if hidden > 0:
        body.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"…and {hidden} more participant{'s' if hidden != 1 else ''}, not shown here. "
            "`interview-desk participant answers` shows anyone's answers."
        )]))
    return View(type="modal", title=TITLE, close="Close", blocks=header + body)
