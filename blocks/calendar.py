"""Google Calendar connection in Slack: the `/interviews connect` and `disconnect` replies, and
the one-line state shown next to a host in the setup and book modals."""

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks import text
from blocks.ids import ActionId, CalendarRef
from storage.enums import ConnectionStatus

# Next to a host in the setup modal (mrkdwn) and in the book modal's host picker (plain text).
HOST_NOTES = {
    ConnectionStatus.ACTIVE: "📅 Google Calendar connected",
    None: "📅 Google Calendar not connected — `/interviews connect`",
    ConnectionStatus.NEEDS_RECONNECT: "⚠️ Google Calendar needs reconnecting — `/interviews connect`",
}
HOST_SUFFIXES = {
    ConnectionStatus.ACTIVE: "Google Calendar connected",
    None: "calendar not connected",
    ConnectionStatus.NEEDS_RECONNECT: "calendar needs reconnecting",
}
GOOGLE_PERMISSIONS_URL = "https://myaccount.google.com/permissions"  # where anyone removes an app's access
DISCONNECT_CONFIRM = (
    "Interview Desk's access to your Google Calendar is revoked and its tokens deleted. "
    "Events already in your calendar stay there."
)


def host_note(status: ConnectionStatus | None) -> str:
    return HOST_NOTES[status]


def host_label(name: str, status: ConnectionStatus | None, limit: int = 75) -> str:
    """ "Ada Lovelace · Google Calendar connected", the name cut to fit an option's 75 characters."""
    suffix = f" · {HOST_SUFFIXES[status]}"
    return text.truncate(name, max(limit - len(suffix), 10)) + suffix


def _consent_button(label: str, url: str, *, primary: bool) -> ButtonElement:
    return ButtonElement(text=label, url=url, action_id=ActionId.CALENDAR_CONSENT, style="primary" if primary else None)


def _disconnect_button(team_id: int) -> ButtonElement:
    return ButtonElement(
        text="Disconnect", action_id=ActionId.CALENDAR_DISCONNECT, value=CalendarRef(team_id=team_id).encode(),
        style="danger",
        confirm=ConfirmObject(title="Disconnect Google Calendar?", text=DISCONNECT_CONFIRM, confirm="Disconnect", deny="Keep it"),
    )


def connect_text(status: ConnectionStatus | None) -> str:
    """The notification text of the connect reply."""
    if status is ConnectionStatus.ACTIVE:
        return "Your Google Calendar is connected."
    if status is ConnectionStatus.NEEDS_RECONNECT:
        return "Your Google Calendar needs reconnecting."
    return "Connect your Google Calendar."


def connect_blocks(
    *, team_id: int, team_name: str, status: ConnectionStatus | None, problem: str | None, consent_url: str,
) -> list[Block]:
    """The reply to `/interviews connect`: the state of the host's connection and what they can do."""
    team = f"*{text.escape(team_name)}*"
    if status is ConnectionStatus.ACTIVE:
        said = (f"✅ Your Google Calendar is connected for the interviews of {team}: interviews you host go "
                "into it, and your busy times are kept free.")
        buttons = [_consent_button("Reconnect", consent_url, primary=False), _disconnect_button(team_id)]
    elif status is ConnectionStatus.NEEDS_RECONNECT:
        reason = f" ({text.escape(text.truncate(problem, 300))})" if problem else ""
        said = (f"⚠️ Google stopped accepting Interview Desk's access to your calendar{reason}. Interviews of "
                f"{team} you host keep their times; reconnect so that calendar updates go out again.")
        buttons = [_consent_button("Reconnect Google Calendar", consent_url, primary=True), _disconnect_button(team_id)]
    else:
        said = (f"📅 Connect your Google Calendar for the interviews of {team}: interviews you host then go "
                "into your calendar (Google sends the invitations, with a Meet link when the study uses Meet), "
                "and participants can't book times you're busy.")
        buttons = [_consent_button("Connect Google Calendar", consent_url, primary=True)]
    return [
        SectionBlock(text=MarkdownTextObject(text=said)),
        ActionsBlock(elements=buttons),
        ContextBlock(elements=[MarkdownTextObject(text=(
            "The link works once, for 15 minutes. Interview Desk asks Google only to manage calendar events "
            "and see when you're busy; `/interviews disconnect` removes its access at any time."
        ))]),
    ]


def disconnected_text(*, was_connected: bool, revoked: bool) -> str:
    if not was_connected:
        return "Your Google Calendar isn't connected."
    return "Disconnected your Google Calendar." if revoked else "Disconnected your Google Calendar here."


def disconnected_blocks(*, team_name: str, was_connected: bool, revoked: bool) -> list[Block]:
    """The reply to `/interviews disconnect` (or its button)."""
    team = f"*{text.escape(team_name)}*"
    if not was_connected:
        said = (f"Your Google Calendar isn't connected for the interviews of {team}, so there was nothing to "
                "disconnect. `/interviews connect` connects it.")
    elif revoked:
        said = (f"✅ Disconnected your Google Calendar from the interviews of {team}: Google confirmed that "
                "Interview Desk's access is revoked, and its tokens are deleted.")
    else:
        said = (f"✅ Disconnected your Google Calendar from the interviews of {team}: its tokens are deleted. "
                "Google did not confirm that the access is revoked, so to be sure, remove Interview Desk at "
                f"<{GOOGLE_PERMISSIONS_URL}|your Google Account's permissions>.")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=said))]
    if was_connected:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=(
            "Events already in your calendar stay there. Interviews booked with you from now on get emailed "
            "invitations; `/interviews connect` connects your calendar again."
        ))]))
    return blocks
