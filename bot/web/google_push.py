"""``POST /google/notifications``: Google's push notifications about hosts' calendars.

Google posts an empty body with ``X-Goog-*`` headers and retries when the answer is an error,
so the endpoint answers at once: one indexed statement marks the calendar as needing a sync, and
the calendar tick does the rest. A notification must name one of our channels, carry the token
that channel was given and the calendar it watches; anything else is a 404 and changes nothing,
the same answer for an unknown channel and a wrong token.
"""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.services import Services
from bot.services.calendar_sync import PushNotice, receive_notification

NOTIFICATIONS_PATH = "/google/notifications"


def google_push_routes(services: Services) -> list[BaseRoute]:
    async def notifications(request: Request) -> Response:
        headers = request.headers
        notice = PushNotice(
            channel_id=headers.get("x-goog-channel-id", ""),
            token=headers.get("x-goog-channel-token", ""),
            resource_id=headers.get("x-goog-resource-id", ""),
            state=headers.get("x-goog-resource-state", ""),
        )
        ours = await run_in_threadpool(receive_notification, services.db, notice)
        return Response(status_code=200 if ours else 404)

    return [Route(NOTIFICATIONS_PATH, notifications, methods=["POST"])]
