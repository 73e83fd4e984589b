"""Running ``interview-desk`` inside the test process, as the console script runs it.

The console script is ``bot.cli:main``; a subprocess pays about a second of imports for each
command. Here ``main()`` itself runs (so its ``error:`` lines and exit codes are the ones under
test) with the script's argv, a working directory without ``.env``, an environment holding only
the settings the test gives, and stdin/stdout/stderr captured by Click's test isolation.
``tests/e2e`` keeps running the installed script in subprocesses for what only a process shows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import types
import weakref
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bot.cli import main
from tests.e2e.processes import CliResult, is_setting

PROG_NAME = "interview-desk"


class InProcessCli:
    """Runs ``bot.cli:main`` in ``cwd`` with the Interview Desk settings ``settings`` and no others."""

    def __init__(self, cwd: Path, **settings: str) -> None:
        self.cwd = cwd
        self.settings = dict(settings)

    def __call__(self, *args: str, input: str | None = None) -> CliResult:
        runner = CliRunner()
        with (
            contextlib.chdir(self.cwd),
            _as_console_script([PROG_NAME, *args]),
            _root_logging_restored(),
            _engines_disposed_after(),
            runner.isolation(input=input, env=self._environment()) as (stdout, stderr, _),
        ):
            try:
                main()
            except SystemExit as exc:
                returncode = _exit_status(exc.code)
            else:
                returncode = 0
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
        return CliResult(tuple(args), returncode, out, err)

    def with_env(self, **changes: str | None) -> InProcessCli:
        """A copy with settings set (or removed, for ``None``)."""
        settings = {**self.settings, **changes}
        return InProcessCli(self.cwd, **{k: v for k, v in settings.items() if v is not None})

    def _environment(self) -> dict[str, str | None]:
        # None removes a variable for the duration of the command; Click restores it afterwards.
        removed: dict[str, str | None] = {name: None for name in os.environ if is_setting(name)}
        return {**removed, **self.settings}


def _exit_status(code: object) -> int:
    """What the process would exit with for ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # as the interpreter does with sys.exit("message")
    return 1


@contextlib.contextmanager
def _as_console_script(argv: list[str]) -> Iterator[None]:
    """``sys.argv`` and ``__main__`` as the script has them.

    Click names the program after ``__main__``: under ``python -m pytest`` it would print
    "Usage: python -m pytest..." where the console script prints "Usage: interview-desk".
    """
    saved_argv, saved_main = sys.argv, sys.modules["__main__"]
    sys.argv = argv
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.argv, sys.modules["__main__"] = saved_argv, saved_main


@contextlib.contextmanager
def _root_logging_restored() -> Iterator[None]:
    """``main()`` configures logging for its process; the test process keeps its own."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@contextlib.contextmanager
def _engines_disposed_after() -> Iterator[None]:
    """Close the connections of every engine the command used: a process would have exited."""
    engines: weakref.WeakSet[Engine] = weakref.WeakSet()

    def remember(connection: Connection) -> None:
        engines.add(connection.engine)

    event.listen(Engine, "engine_connect", remember)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", remember)
        for engine in list(engines):
            engine.dispose()
