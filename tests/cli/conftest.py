"""The ``interview-desk`` command run in-process: an empty working directory, only the settings
each test gives, on a fresh SQLite file or on the test database of either backend."""

from pathlib import Path

import pytest

from tests.cli.in_process import InProcessCli
from tests.conftest import ADA, BO, CHANNEL, WORKSPACE
from tests.e2e.processes import SeededStudy, seed_study


@pytest.fixture
def cli(workdir: Path, tmp_path: Path) -> InProcessCli:
    """The CLI on a fresh, not yet migrated SQLite file, without any Slack variable."""
    return InProcessCli(workdir, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")


@pytest.fixture
def db_cli(workdir: Path, database_url: str) -> InProcessCli:
    """The CLI on the test database: SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    return InProcessCli(workdir, DATABASE_URL=database_url)


@pytest.fixture
def study(db_cli: InProcessCli) -> SeededStudy:
    """Team, study, meeting link and the participant Nora Quist, created through the CLI."""
    return seed_study(db_cli, workspace=WORKSPACE, channel=CHANNEL, host=ADA, members=(ADA, BO))
