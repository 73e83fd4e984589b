"""Building the application's objects from the settings, in one place."""

from bot.clock import Clock, system_clock
from bot.integrations.email import transport_from_settings
from bot.jobs.deliverers import EmailDeliverer
from bot.jobs.outbox_worker import OutboxWorker
from bot.secret_key import load_secret_key
from bot.services import Services
from bot.services.links import LinkSigner
from bot.services.notifications import Mailer
from bot.settings import Settings
from storage.db import Database
from storage.enums import OutboxKind


def mailer(settings: Settings) -> Mailer:
    return Mailer(settings.mail_from, LinkSigner(load_secret_key(settings), settings.base_url))


def build_services(settings: Settings, db: Database, clock: Clock = system_clock) -> Services:
    return Services.build(db, mailer(settings), clock)


def build_outbox_worker(settings: Settings, services: Services) -> OutboxWorker:
    """Delivers what this server can deliver; other kinds wait for a server that can."""
    return OutboxWorker(
        services.db,
        services.clock,
        {OutboxKind.EMAIL: EmailDeliverer(transport_from_settings(settings))},
    )
