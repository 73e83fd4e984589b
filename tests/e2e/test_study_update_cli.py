"""`interview-desk study update`, run as a user runs it: a subprocess on the test database.

One update and one refusal through the installed script on each database; every setting and
every bad input is checked in-process in ``tests/cli/test_study_update.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.in_process import InProcessCli
from tests.conftest import ADA, BO, CHANNEL, WORKSPACE
from tests.e2e.processes import Cli, clean_env, seed_study

pytestmark = pytest.mark.e2e


def test_the_console_script_updates_a_study_and_refuses_bad_input(tmp_path: Path, database_url: str) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    # Seeding and checking are not what this test is about: in-process, they cost far less.
    in_process = InProcessCli(workdir, DATABASE_URL=database_url)
    seeded = seed_study(in_process, workspace=WORKSPACE, channel=CHANNEL, host=ADA, members=(ADA, BO))
    cli = Cli(workdir, clean_env(DATABASE_URL=database_url))

    updated = cli("study", "update", "--study", CHANNEL, "--duration", "60", "--incentive", "50 eur")
    assert updated.returncode == 0, str(updated)
    assert updated.stdout == f"Study {seeded.study_id} 'Checkout redesign': updated duration, incentive.\n"
    assert updated.stderr == ""

    refused = cli("study", "update", "--study", str(seeded.study_id), "--duration", "90", "--buffer", "-5")
    assert "can't be negative" in refused.error_line()
    assert refused.returncode == 1, str(refused)

    [listed] = in_process("study", "list", "--json").json()
    assert (listed["duration_minutes"], listed["timezone"]) == (60, "Europe/Berlin")
