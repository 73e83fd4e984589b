"""Team members' names and email addresses from their Slack profiles (users.info)."""

import logging
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.domain import MemberProfile

log = logging.getLogger(__name__)


def lookup_profiles(client: WebClient, user_ids: Iterable[str]) -> dict[str, MemberProfile]:
    """Profiles Slack could give; a user it can't look up is left out (and logged), not fatal."""
    found = {}
    for user_id in dict.fromkeys(user_ids):
        try:
            user = client.users_info(user=user_id)["user"]
        except (SlackClientError, OSError, KeyError, TypeError):
            log.info("no Slack profile for %s", user_id, exc_info=True)
            continue
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name")
        found[user_id] = MemberProfile(name=name or None, email=profile.get("email") or None)
    return found
