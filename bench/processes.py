"""Starting the server under test as a subprocess, and waiting for it to answer."""

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def serve_command() -> list[str]:
    """The installed `interview-desk serve`, as a deployment runs it."""
    executable = shutil.which("interview-desk") or str(Path(sys.executable).with_name("interview-desk"))
    return [executable, "serve"]


def floor_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bench.floor_app", "--port", str(port)]


@contextmanager
def serving(command: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the block ends, once ``url``/healthz answers. Its output goes to
    ``log`` (a file, never a pipe that could fill up and stall it)."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.05)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # still finishing work it took on: not our figures
                process.kill()
                process.wait()


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
