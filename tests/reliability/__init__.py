"""The reliability and security suite: properties, fuzzing and adversarial requests.

Every module here checks one promise the app makes under hostile or unusual input: what it
answers (never a 5xx; a named refusal) and what it leaves alone (nothing changed on rejection).
The helpers below are shared by those modules: a snapshot of the whole database to compare
before and after, and Hypothesis settings sized for tests that talk to a running server.
"""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import select

from storage.db import Database
from storage.models import Base

# Hypothesis writes caches to ./.hypothesis even without an example database; keep them out of
# the checkout unless a location is configured.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "interview-desk-hypothesis")

Snapshot = dict[str, list[tuple[Any, ...]]]


def fuzz_settings(examples: int) -> settings:
    """Settings for a property that sends requests to one running app per test.

    The property is an inner function of the test, so every example shares the test's app and
    database on purpose: each must leave them as it found them, which is what the tests check.
    No deadline (a request's time is not the point) and no example database in the checkout.
    """
    # Derandomized: the same examples on every run, so CI never fails on a newly drawn one by chance.
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def snapshot(db: Database) -> Snapshot:
    """Every row of every table, in primary-key order: equal snapshots mean nothing changed."""
    with db.transaction() as session:
        return {
            table.name: [
                tuple(_comparable(value) for value in row)
                for row in session.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).all()
            ]
            for table in Base.metadata.sorted_tables
        }


def _comparable(value: Any) -> Any:
    """JSON columns come back as lists and dicts: made hashable, so rows can be compared as sets."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def differences(before: Snapshot, after: Snapshot) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per table, the rows that are gone and the rows that are new or changed."""
    changed = {}
    for table, rows in before.items():
        old, new = set(rows), set(after.get(table, []))
        if old != new:
            changed[table] = {"gone": sorted(old - new, key=repr), "new": sorted(new - old, key=repr)}
    return changed


def assert_unchanged(db: Database, before: Snapshot) -> None:
    changed = differences(before, snapshot(db))
    assert not changed, f"the database changed: {changed}"
