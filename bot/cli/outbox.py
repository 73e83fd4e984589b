"""`interview-desk outbox`: what is waiting or has failed, and retrying one item."""

import click

from bot.cli.output import emit, json_option
from bot.cli.runtime import Runtime, pass_runtime
from bot.services.errors import NotFound
from storage import outbox as queue


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def outbox(ctx: click.Context, as_json: bool) -> None:
    """Side effects (emails, Slack posts, calendar writes) still pending or failed."""
    if ctx.invoked_subcommand is not None:
        return
    rt = ctx.find_object(Runtime)
    with rt.db.transaction() as session:
        items = [
            {
                "id": i.id, "kind": i.kind.value, "status": i.status.value, "attempts": i.attempts,
                "next_attempt_at": i.available_at.isoformat(), "key": i.idempotency_key,
                "last_error": i.last_error,
            }
            for i in queue.unsettled(session)
        ]
        counts = {status.value: n for status, n in queue.count_by_status(session).items()}
    lines = [
        f"{i['id']}\t{i['kind']}\t{i['status']}\tattempts {i['attempts']}\tnext {i['next_attempt_at']}\t{i['last_error'] or ''}"
        for i in items
    ]
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "empty"
    emit({"counts": counts, "items": items}, "\n".join([f"Outbox: {summary}.", *lines]), as_json=as_json)


@outbox.command("retry")
@click.argument("item_id", type=int)
@pass_runtime
def outbox_retry(rt: Runtime, item_id: int) -> None:
    """Try item ITEM_ID again now (a failed one, or one waiting for its next attempt)."""
    with rt.db.transaction() as session:
        if not queue.retry_now(session, item_id, now=rt.services.clock()):
            raise NotFound(f"There is no pending or failed outbox item {item_id}.")
    click.echo(f"Outbox item {item_id} will be delivered on the next tick of a running server.")
