"""The floor: a Bolt app that answers a constant, behind exactly the same web stack as ours.

It acknowledges `/interviews` with a short message, and every button, menu choice and modal
submission with an empty acknowledgement.

`python -m bench.floor_app --port N` serves it with uvicorn exactly as `interview-desk serve`
does (`bot.runner.serve_asgi`), access log included.
"""

import argparse
import os
import re

from slack_bolt import Ack, App

from bot.composition import build_services
from bot.runner import serve_asgi
from bot.server import create_web_app
from bot.settings import load_settings
from bot.slack_app import web_client
from storage.db import Database


def build_floor_app() -> App:
    settings = load_settings()
    assert settings.slack_signing_secret is not None
    app = App(
        client=web_client(settings),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        token_verification_enabled=False,
    )

    @app.command("/interviews")
    def constant_command(ack: Ack) -> None:
        ack(response_type="ephemeral", text="ok")

    @app.action("interview.view_details")
    def constant_action(ack: Ack) -> None:
        ack()

    @app.action(re.compile(".*"))
    def constant_click(ack: Ack) -> None:
        ack()

    @app.view(re.compile(".*"))
    def constant_submission(ack: Ack) -> None:
        ack()

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = load_settings()
    services = build_services(settings, Database(os.environ.get("DATABASE_URL", "sqlite://")))
    web = create_web_app(settings, services, build_floor_app())
    serve_asgi(web, "127.0.0.1", args.port)


if __name__ == "__main__":
    main()
