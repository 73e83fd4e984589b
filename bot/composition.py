"""Building the application's objects from the settings, in one place."""

from datetime import timedelta

from slack_sdk import WebClient

from bot.clock import Clock, system_clock
from bot.integrations.email import transport_from_settings
from bot.integrations.google_calendar import GoogleApp, GoogleEndpoints
from bot.integrations.notetaker import NotetakerClient
from bot.integrations.token_crypto import TokenBox
from bot.jobs.calendar_deliverer import CalendarDeliverer
from bot.jobs.deliverers import EmailDeliverer, SlackPostDeliverer
from bot.jobs.lifecycle import LifecycleRunner
from bot.jobs.notetaker_deliverer import NotetakerDeliverer
from bot.jobs.outbox_worker import Deliverer, OutboxWorker, RetryPolicy, channel_pace
from bot.secret_key import load_secret_key
from bot.services import Services
from bot.services.calendar_access import GoogleSetup
from bot.services.calendar_events import CalendarEventService
from bot.services.links import LinkSigner
from bot.services.notifications import Mailer, Notifier
from bot.services.reminders import stale_reminders
from bot.settings import Settings
from storage.db import Database
from storage.enums import OutboxKind


def mailer(settings: Settings) -> Mailer:
    return Mailer(settings.mail_from, LinkSigner(load_secret_key(settings), settings.base_url))


def google_setup(settings: Settings) -> GoogleSetup | None:
    """Talking to Google, when an OAuth client is configured; tokens sealed with SECRET_KEY."""
    if settings.google_client_id is None or settings.google_client_secret is None:
        return None
    endpoints = GoogleEndpoints(
        api_url=str(settings.google_api_url), auth_url=str(settings.google_auth_url),
        token_url=str(settings.google_token_url), revoke_url=str(settings.google_revoke_url),
    )
    app = GoogleApp(settings.google_client_id, settings.google_client_secret.get_secret_value(), endpoints)
    return GoogleSetup(app, TokenBox.from_secret_key(load_secret_key(settings)), settings.base_url)


def build_services(settings: Settings, db: Database, clock: Clock = system_clock) -> Services:
    return Services.build(db, mailer(settings), clock, google=google_setup(settings))


def build_outbox_worker(settings: Settings, services: Services) -> OutboxWorker:
    """Delivers what this server can deliver; other kinds wait for a server that can."""
    deliverers: dict[OutboxKind, Deliverer] = {OutboxKind.EMAIL: EmailDeliverer(transport_from_settings(settings))}
    if settings.slack_bot_token is not None:
        # Retries are the worker's job here, with backoff that survives restarts.
        client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=str(settings.slack_api_url), timeout=10)
        deliverers[OutboxKind.SLACK_POST] = SlackPostDeliverer(client, services.db, services.clock)
    policy = RetryPolicy()
    if settings.notetaker_secret is not None:
        # Without the secret, requests wait (pending) for a server that can sign them.
        deliverers[OutboxKind.NOTETAKER] = NotetakerDeliverer(
            NotetakerClient(settings.notetaker_secret.get_secret_value()), services.db, services.clock,
            Notifier(services.mailer), max_attempts=policy.max_attempts,
        )
    if services.calendars.configured:
        events = CalendarEventService(services.db, services.clock, services.calendars, Notifier(services.mailer))
        deliverers[OutboxKind.CALENDAR] = CalendarDeliverer(events, services.db, max_attempts=policy.max_attempts)
    return OutboxWorker(
        services.db, services.clock, deliverers, policy=policy,
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        pace=channel_pace(settings.slack_channel_pace_seconds, settings.slack_channel_burst),
        gates=[stale_reminders],
    )


def build_lifecycle_runner(services: Services) -> LifecycleRunner:
    """The tick that queues what time makes due: reminders, completion, prompts."""
    return LifecycleRunner(services.db, services.clock, services.reminders, services.lifecycle)
