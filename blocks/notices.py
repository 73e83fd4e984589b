"""Short ephemeral replies: help, errors and other one-liners."""

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks import text

COMMANDS = (
    ("/interviews", "this channel's upcoming interviews, soonest first"),
    ("/interviews past", "past interviews, latest first, with their outcome"),
    ("/interviews setup", "create this channel's study, or edit its settings, hosts and screener"),
    ("/interviews invite", "add participants and email them their personal scheduling links"),
    ("/interviews book", "book a participant on their behalf, at a time you pick"),
    ("/interviews connect", "connect your Google Calendar: interviews you host go into it, with invitations from Google"),
    ("/interviews disconnect", "disconnect your Google Calendar and revoke Interview Desk's access"),
    ("/interviews help", "this help"),
)


def help_blocks(unknown: str | None = None) -> list[Block]:
    lines = [f"`{command}` — {what}" for command, what in COMMANDS]
    blocks: list[Block] = []
    if unknown:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"I don't know `{text.escape(text.truncate(unknown, 100))}`. Here is what I can do:"))
        )
    blocks.append(SectionBlock(text=MarkdownTextObject(text="*Interview Desk*\n" + "\n".join(lines))))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Each study lives in its own channel: run these in the study's channel. "
                    "Every interview has *View details* (attendees and activity) and a *More…* menu with "
                    "everything else: reschedule, change host, edit details, emails, incentives, no-show, "
                    "completed, cancel. Your own upcoming interviews are on the app's *Home* tab."
                )
            ]
        )
    )
    return blocks


def scheduling_links_text(links: list[tuple[str, str]]) -> str:
    """Each participant's personal link, for a teammate to paste into a message (only they see it)."""
    if not links:
        return "This interview has no participants."
    lines = [f"*{text.escape(name)}*: {url}" for name, url in links]
    return "Personal scheduling link" + ("s" if len(links) > 1 else "") + " (only for this participant):\n" + "\n".join(lines)


def message_blocks(message: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text.truncate(message, 3000)))]
