"""SECRET_KEY, or on a laptop without one, a development key kept in a file beside the app."""

import logging
import os
import secrets
from pathlib import Path

from bot.settings import Settings

log = logging.getLogger(__name__)
DEV_KEY_FILE = Path(".interview-desk-secret")


def load_secret_key(settings: Settings, dev_key_file: Path = DEV_KEY_FILE) -> bytes:
    """The key participant links are derived from. Changing it changes every link."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode("utf-8")
    if not dev_key_file.exists():
        # Created once, readable only by its owner, so links survive restarts in development.
        fd = os.open(dev_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        log.info("SECRET_KEY is not set: created a development key in %s", dev_key_file)
    return dev_key_file.read_text().strip().encode("utf-8")
