"""Embedded mode: the backend serves the built UI itself, with a history fallback."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import asgi_client, make_settings, running_app


async def test_backend_serves_the_built_spa_and_keeps_api_routes(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "app-1234.js").write_text("console.log('unity')")
    (dist / "favicon.svg").write_text("<svg/>")
    settings = make_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, frontend_dist=dist)
    async with running_app(settings) as app, asgi_client(app) as c:
        for path in ("/", "/plugins/3", "/settings"):
            r = await c.get(path)
            assert r.status_code == 200 and "id=root" in r.text, path
            assert r.headers["cache-control"] == "no-cache"
        assert (await c.get("/assets/app-1234.js")).text == "console.log('unity')"
        assert (await c.get("/favicon.svg")).text == "<svg/>"
        assert (await c.get("/health")).json()["status"] == "healthy"
        r = await c.get("/api/v1/nope")
        assert r.status_code == 404 and "id=root" not in r.text
        assert (await c.get("/../../etc/passwd")).text.startswith("<!doctype")
        assert (await c.get("/assets/missing.js")).status_code == 404
