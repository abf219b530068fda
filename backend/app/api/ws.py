"""WS /ws/metrics: check Origin, authenticate (cookie, ?token= or a first message), join the hub."""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketState

from app.api.client_address import origin_allowed
from app.core.errors import Unauthorized
from app.db.session import is_unavailable
from app.services.auth import principals, sessions
from app.services.live.hub import CLOSE_POLICY
from app.state import AppState

log = logging.getLogger(__name__)
router = APIRouter(tags=["ws"])
AUTH_TIMEOUT = 5.0
CLOSE_TRY_LATER = 1013


class _Socket:
    """Starlette's WebSocket as the hub's Socket: closing one already closed is a no-op."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws

    async def send_text(self, data: str) -> None:
        await self.ws.send_text(data)

    async def receive_text(self) -> str:
        return await self.ws.receive_text()

    async def close(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            await self.ws.close(code, reason)


@router.websocket("/ws/metrics")
async def metrics_socket(ws: WebSocket) -> None:
    state: AppState = ws.app.state.unity
    await ws.accept()
    if not origin_allowed(ws, state.settings.cors_origins):
        await ws.close(CLOSE_POLICY, "origin not allowed: add it to CORS_ORIGINS")
        return
    # The SPA's session cookie, sent with the handshake (the Origin check above keeps other
    # sites from riding it); scripts use ?token= or a first auth message.
    token = ws.query_params.get("token") or ws.cookies.get(sessions.SESSION_COOKIE)
    if not token:
        try:
            first = json.loads(await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT))
            token = (
                first.get("token")
                if isinstance(first, dict) and first.get("type") == "auth"
                else None
            )
        except (TimeoutError, ValueError, RuntimeError):
            token = None
        except Exception as exc:
            log.debug("WebSocket client left before authenticating: %s", exc)
            return
    try:
        async with asyncio.timeout(state.settings.request_timeout_seconds):
            async with state.db.session() as session:
                user = await principals.authenticate(session, state.settings, token)
                username = user.username
    except Unauthorized as exc:
        await ws.close(CLOSE_POLICY, exc.detail[:120])
        return
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # 1013 "try again later": clients reconnect with their usual backoff.
        await ws.close(CLOSE_TRY_LATER, "database not answering; retry in a few seconds")
        return
    await ws.send_text(json.dumps({"type": "hello", "user": username, "subscribed": "all"}))
    await state.hub.serve(_Socket(ws), username)
