"""Running the real ``interview-desk`` console script: one-shot commands and a live server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from bot.settings import Settings

COMMAND_TIMEOUT = 60.0
"""Seconds one CLI command may take (PostgreSQL migrations included)."""
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

_SETTING_NAMES = frozenset(name.upper() for name in Settings.model_fields)


def executable() -> str:
    """The console script of the environment running the tests."""
    beside_python = Path(sys.executable).with_name("interview-desk")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("interview-desk")
    if found is None:
        pytest.fail("the interview-desk console script is not installed (pip install -e .)", pytrace=False)
    return found


def is_setting(name: str) -> bool:
    """Whether the environment variable ``name`` configures Interview Desk (SLACK_*, DATABASE_URL, PORT, ...)."""
    return name.upper() in _SETTING_NAMES or name.upper().startswith("SLACK_")


def clean_env(**settings: str) -> dict[str, str]:
    """``os.environ`` without any Interview Desk setting, plus ``settings``."""
    env = {name: value for name, value in os.environ.items() if not is_setting(name)}
    env.update(settings)
    return env


@dataclass(frozen=True)
class CliResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"interview-desk {' '.join(self.args)} -> {self.returncode}\n[stdout]\n{self.stdout}[stderr]\n{self.stderr}"

    def json(self) -> Any:
        """The parsed stdout of a successful ``--json`` command."""
        assert self.returncode == 0, str(self)
        return json.loads(self.stdout)

    def error_line(self) -> str:
        """The one ``error:`` line of a failed command, checking there is nothing else."""
        assert self.returncode != 0, str(self)
        assert "Traceback" not in self.stdout + self.stderr, str(self)
        assert self.stdout == "", str(self)
        lines = self.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), str(self)
        return lines[0]


class RunsCli(Protocol):
    """Anything that runs one ``interview-desk`` command: a subprocess, or in this process."""

    def __call__(self, *args: str) -> CliResult: ...


class Cli:
    """Runs ``interview-desk`` in ``cwd`` with exactly the environment ``env``."""

    def __init__(self, cwd: Path, env: Mapping[str, str]) -> None:
        self.cwd = cwd
        self.env = dict(env)

    def __call__(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = COMMAND_TIMEOUT) -> CliResult:
        completed = subprocess.run(
            [executable(), *args],
            cwd=self.cwd,
            env=self.env if env is None else dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return CliResult(tuple(args), completed.returncode, completed.stdout, completed.stderr)

    def with_env(self, **changes: str | None) -> Cli:
        """A copy with variables set (or removed, for ``None``)."""
        env = dict(self.env)
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return Cli(self.cwd, env)


class ServerProcess:
    """A long-running ``interview-desk`` command serving HTTP on ``port``; output goes to log files."""

    def __init__(self, args: list[str], *, cwd: Path, env: Mapping[str, str], port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self._stdout_path = cwd / f"server-{port}.out"
        self._stderr_path = cwd / f"server-{port}.err"
        with self._stdout_path.open("wb") as stdout, self._stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [executable(), *args], cwd=cwd, env=dict(env), stdout=stdout, stderr=stderr
            )

    @property
    def stdout(self) -> str:
        return self._stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self._stderr_path.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        return f"[stdout]\n{self.stdout}[stderr]\n{self.stderr}"

    def wait_until_healthy(self, timeout: float = STARTUP_TIMEOUT) -> httpx.Response:
        """Poll ``GET /healthz`` until it answers 200; fail with the server's output otherwise."""
        deadline = time.monotonic() + timeout
        last: str = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode} while starting\n{self.output()}", pytrace=False)
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=2)
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 200:
                    return response
                last = f"{response.status_code} {response.text}"
            time.sleep(0.1)
        pytest.fail(f"/healthz did not answer 200 within {timeout}s (last: {last})\n{self.output()}", pytrace=False)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait; a server that does not exit in time is killed and the test fails."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
                pytest.fail(f"the server ignored SIGTERM for {timeout}s and was killed\n{self.output()}", pytrace=False)
        return self.process.returncode


@contextmanager
def serving(args: list[str], *, cwd: Path, env: Mapping[str, str], port: int) -> Iterator[ServerProcess]:
    """Start the server, wait for ``/healthz``, and always stop it (killing it if it must)."""
    server = ServerProcess(args, cwd=cwd, env=env, port=port)
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()


def exited_cleanly(returncode: int) -> bool:
    """uvicorn finishes its shutdown on SIGTERM, then re-raises the signal: 0 or -SIGTERM are both clean."""
    return returncode in (0, -signal.SIGTERM)


IN_HOURS = "2031-03-04T10:00+01:00"
"""A Tuesday at 10:00 in Berlin: inside the default Mon–Fri 09–17 availability, years ahead."""
OUT_OF_HOURS = "2031-03-04T20:00+01:00"
"""The same Tuesday at 20:00 in Berlin: outside availability."""
MEETING_URL = "https://meet.example.com/ada"


@dataclass(frozen=True)
class SeededStudy:
    team_id: int
    study_id: int


def seed_study(cli: RunsCli, *, workspace: str, channel: str, host: str, members: tuple[str, ...]) -> SeededStudy:
    """A team, a study with ``host``'s meeting link, and the participant Nora Quist, all through the CLI."""
    member_args = [arg for member in members for arg in ("--member", member)]
    team = cli("team", "create", "UX Research", "--workspace", workspace, *member_args, "--json").json()
    study = cli(
        "study", "create", "--team", str(team["id"]), "--name", "Checkout redesign", "--channel", channel,
        "--timezone", "Europe/Berlin", "--duration", "45", "--host", host, "--json",
    ).json()
    link = cli("study", "set-meeting-link", "--study", str(study["id"]), "--host", host, "--url", MEETING_URL, "--json")
    assert link.returncode == 0, str(link)
    cli("participant", "add", "--study", str(study["id"]), "--email", "nora@example.com", "--name", "Nora Quist", "--json").json()
    return SeededStudy(team["id"], study["id"])
