"""Security headers without nginx in front: the UI, the API, errors and the API docs."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.main import create_app
from tests.conftest import make_settings


def script_src(csp: str) -> str:
    return next(p.strip() for p in csp.split(";") if p.strip().startswith("script-src"))


async def test_every_answer_carries_the_security_headers(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    settings = make_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, frontend_dist=dist)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            for path in ("/", "/plugins/3", "/health", "/api/v1/auth/setup", "/api/v1/nope"):
                r = await c.get(path)
                h = r.headers
                assert h["x-content-type-options"] == "nosniff", path
                assert h["referrer-policy"] == "strict-origin-when-cross-origin", path
                assert h["x-frame-options"] == "DENY", path
                csp = h["content-security-policy"]
                assert "frame-ancestors 'none'" in csp, path
                assert script_src(csp) == "script-src 'self'", path
            r = await c.post("/api/v1/auth/setup", content=b"x" * 2_000_000)
            assert r.status_code == 413 and r.headers["x-content-type-options"] == "nosniff"
            docs = await c.get("/docs")
            assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
