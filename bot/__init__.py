"""Interview Desk: schedule and run user-research interviews from inside Slack."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("interview-desk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
