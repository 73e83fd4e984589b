"""Printing CLI results: a human line, or JSON (with ids) for scripts."""

import dataclasses
import json
from datetime import datetime
from enum import Enum
from typing import Any

import click


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def emit(data: Any, human: str, *, as_json: bool) -> None:
    click.echo(json.dumps(_plain(data), indent=2, ensure_ascii=False) if as_json else human)


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
