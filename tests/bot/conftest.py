"""Fixtures of the service tests (the shared ones are in ``tests/conftest.py``)."""

import pytest

from storage.db import Database
from tests.bot.records import give_team_emails
from tests.conftest import Seed


@pytest.fixture
def team_emails(db: Database, seeded: Seed) -> None:
    give_team_emails(db)
