"""Security headers on every HTTP answer, so they hold without nginx in front (port 8000).

The values match frontend/nginx.conf; nginx sends the same ones for what it serves itself.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The SPA loads only its own scripts and styles: no inline script, no CDN.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI (/docs) and ReDoc (/redoc) need their inline bootstrap script and ReDoc a blob
# worker; everything they load is served from /docs/static, and they are still never framed.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
COMMON = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


def _encoded(pairs: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


# Encoded once: these go on every answer, and MutableHeaders re-encodes and re-scans the whole
# header list for each one it sets (a tenth of /health's own CPU before).
_APP = _encoded((*COMMON, ("Content-Security-Policy", APP_CSP)))
_DOCS = _encoded((*COMMON, ("Content-Security-Policy", DOCS_CSP)))
_CSP = b"content-security-policy"
_XFO = b"x-frame-options"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = _DOCS if scope["path"].startswith(("/docs", "/redoc")) else _APP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", ()))
                present = {name.lower(): value for name, value in raw}
                own = present.get(_CSP)
                # A status page that may be framed (api/spa.py sets its own frame-ancestors)
                # must not be denied again by X-Frame-Options.
                framable = own is not None and b"frame-ancestors 'none'" not in own
                raw += [
                    (name, value)
                    for name, value in ours
                    if name not in present and not (framable and name == _XFO)
                ]
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)
