"""The `interview-desk` command."""

import logging
import sys

import click
from sqlalchemy.exc import OperationalError

from bot import __version__
from bot.cli.admin import ADMIN_GROUPS, study
from bot.cli.outbox import outbox
from bot.cli.output import emit, json_option
from bot.cli.runtime import Runtime, pass_runtime
from bot.cli.study_update import study_update
from bot.services.errors import DomainError
from bot.settings import ConfigError, load_settings
from storage.migrate import autogenerate, current_revision, head_revision, upgrade


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="interview-desk")
@click.option("--database-url", envvar=None, help="Use this database instead of DATABASE_URL.")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """Interview Desk: schedule and run user-research interviews from inside Slack."""
    ctx.obj = Runtime(database_url)


@cli.command()
@click.option("--host", help="Default: HOST.")
@click.option("--port", type=int, help="Default: PORT.")
@pass_runtime
def serve(rt: Runtime, host: str | None, port: int | None) -> None:
    """Serve Slack (HTTP, and Socket Mode with SLACK_APP_TOKEN) and the participant pages."""
    from bot.runner import run  # imports the web stack only for the commands that serve

    logging.getLogger().setLevel(logging.INFO)
    missing = rt.settings.missing_slack_credentials()
    if missing:
        raise ConfigError(
            f"missing {', '.join(missing)}: set them in the environment or .env "
            "(or try `interview-desk demo`, which runs without Slack)."
        )
    run(rt.settings, rt.services, host=host, port=port)


@cli.command()
@click.option("--database", "path", default="interview-desk-demo.db", show_default=True, help="SQLite file to create afresh.")
@click.option("--workspace", default="T0DEMO", show_default=True, metavar="T…", help="Your Slack workspace ID, to try it in Slack.")
@click.option("--channel", default="C0DEMO", show_default=True, metavar="C…", help="The channel to bind the demo study to.")
@click.option("--member", default="U0DEMO", show_default=True, metavar="U…", help="Your Slack user ID (joins the team and hosts).")
@click.option("--host", help="Default: HOST.")
@click.option("--port", type=int, help="Default: PORT.")
@click.option("--no-serve", is_flag=True, help="Only create the database.")
@click.pass_context
def demo(ctx: click.Context, path: str, workspace: str, channel: str, member: str, host: str | None, port: int | None, no_serve: bool) -> None:
    """Create a fresh demo database with a team, a study and interviews, and serve it."""
    from bot.demo import create_demo

    logging.getLogger().setLevel(logging.INFO)
    # Participant links must point at the server the demo is about to start.
    env_base = load_settings().public_base_url
    base = None if env_base else f"http://{host or load_settings().host}:{port or load_settings().port}"
    runtime = Runtime(f"sqlite:///{path}", public_base_url=base)
    ctx.obj = runtime
    summary = create_demo(path, runtime, workspace_id=workspace, channel_id=channel, member_id=member)
    click.echo(summary.instructions(runtime.settings, host=host, port=port, serving=not no_serve))
    if no_serve:
        return
    from bot.runner import run

    run(runtime.settings, runtime.services, host=host, port=port)


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_runtime
def db_upgrade(rt: Runtime) -> None:
    """Apply all migrations (the server also does this when it starts)."""
    from storage.db import Database

    database = Database(rt.settings.database_url)
    upgrade(database.engine)
    click.echo(f"Database is at revision {current_revision(database.engine)} (latest: {head_revision()}).")


@db.command("revision")
@click.argument("message")
@pass_runtime
def db_revision(rt: Runtime, message: str) -> None:
    """For developers: write a new migration from the models' difference to a migrated database."""
    from storage.db import Database

    database = Database(rt.settings.database_url)
    upgrade(database.engine)
    autogenerate(database.engine, message)


@db.command("current")
@json_option
@pass_runtime
def db_current(rt: Runtime, as_json: bool) -> None:
    """Show the schema revision of the database."""
    from storage.db import Database

    revision = current_revision(Database(rt.settings.database_url).engine)
    data = {"current": revision, "head": head_revision()}
    emit(data, f"current {revision or '(empty database)'}, latest {data['head']}", as_json=as_json)


for group in (*ADMIN_GROUPS, outbox):
    cli.add_command(group)
study.add_command(study_update)


def main() -> None:
    # One-off commands print their result and at most one error line; servers log their work.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise
    # APScheduler logs every tick (two lines every 2 s); the jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())  # drivers' messages span several lines
        click.echo(f"error: cannot use the database: {reason}", err=True)
        sys.exit(1)
