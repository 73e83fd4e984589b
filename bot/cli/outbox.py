"""`interview-desk outbox`: what is waiting or has failed, and retrying one item."""

from datetime import datetime
from typing import Any

import click

from bot.cli.output import emit, json_option
from bot.cli.runtime import Runtime, pass_runtime
from bot.integrations.email import Mailbox
from bot.services.errors import Conflict, NotFound
from storage import outbox as queue
from storage.enums import OutboxStatus
from storage.models import OutboxItem

LISTED = 200


def _target(item: OutboxItem) -> str:
    """Who or where: an email's recipients, a post's channel."""
    payload = item.payload if isinstance(item.payload, dict) else {}
    to = payload.get("to")
    if isinstance(to, list):
        return ", ".join(str(Mailbox.from_json(mailbox)) for mailbox in to)
    if item.ordering_key:
        return item.ordering_key.removeprefix("slack:")
    return ""


def _state(item: OutboxItem, now: datetime) -> str:
    if item.status is OutboxStatus.FAILED:
        return "failed"
    if item.locked_until is not None and item.locked_until >= now:
        return "sending"
    return "waiting" if item.available_at > now else "due"


def _row(item: OutboxItem, now: datetime) -> dict[str, Any]:
    return {
        "id": item.id, "kind": item.kind.value, "status": item.status.value, "state": _state(item, now),
        "to": _target(item), "attempts": item.attempts, "next_attempt_at": item.available_at.isoformat(),
        "held_by": item.locked_by if _state(item, now) == "sending" else None,
        "key": item.idempotency_key, "last_error": item.last_error,
    }


def _line(row: dict[str, Any]) -> str:
    when = "" if row["state"] in ("failed", "sending") else f" next {row['next_attempt_at']}"
    error = f"\n      last error: {row['last_error']}" if row["last_error"] else ""
    return (f"{row['id']:>6}  {row['kind']:<11} {row['state']:<8} {row['to']}  "
            f"(attempts {row['attempts']}{when}){error}")


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def outbox(ctx: click.Context, as_json: bool) -> None:
    """Side effects (emails, Slack posts, calendar writes) still pending or failed."""
    if ctx.invoked_subcommand is not None:
        return
    rt = ctx.find_object(Runtime)
    now = rt.services.clock()
    with rt.db.transaction() as session:
        items = [_row(i, now) for i in queue.unsettled(session, limit=LISTED + 1)]
        counts = {status.value: n for status, n in queue.count_by_status(session).items()}
    shown = items[:LISTED]
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "empty"
    lines = [f"Outbox: {summary}.", *(_line(row) for row in shown)]
    if len(items) > LISTED:
        lines.append(f"(the oldest {LISTED} shown; add --json for scripts)")
    if any(row["state"] == "failed" for row in shown):
        lines.append("Try a failed item again with: interview-desk outbox retry ID")
    emit({"counts": counts, "items": shown}, "\n".join(lines), as_json=as_json)


@outbox.command("retry")
@click.argument("item_id", type=int)
@pass_runtime
def outbox_retry(rt: Runtime, item_id: int) -> None:
    """Try item ITEM_ID again now (a failed one, or one waiting for its next attempt)."""
    now = rt.services.clock()
    with rt.db.transaction() as session:
        if not queue.retry_now(session, item_id, now=now):
            item = queue.get(session, item_id)
            if item is None:
                raise NotFound(f"There is no outbox item {item_id}.")
            if item.status is OutboxStatus.SENT:
                raise Conflict(f"Outbox item {item_id} was already sent; it is not sent twice.")
            if item.status is OutboxStatus.DROPPED:
                raise Conflict(f"Outbox item {item_id} was dropped (no longer wanted); it is not sent.")
            raise Conflict(f"Outbox item {item_id} is being delivered right now by {item.locked_by}.")
    click.echo(f"Outbox item {item_id} will be delivered on the next tick of a running server.")
