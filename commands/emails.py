"""(being written)"""

from slack_bolt import App

ACTION_HANDLERS: dict = {}


def register(app: App) -> None:
    pass
