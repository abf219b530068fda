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


async def test_api_docs_are_served_without_a_cdn_and_robots_are_turned_away(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/x.db", tmp_path)
    async with running_app(settings) as app, asgi_client(app) as c:
        for page, asset in (
            ("/docs", "/docs/static/swagger-ui-bundle.js"),
            ("/redoc", "/docs/static/redoc.standalone.js"),
        ):
            r = await c.get(page)
            assert r.status_code == 200, page
            assert asset in r.text
            # every script and stylesheet the page loads comes from this server
            assert "https://" not in r.text.replace("https://fastapi.tiangolo.com", ""), page
            js = await c.get(asset)
            assert js.status_code == 200 and len(js.content) > 100_000, asset
        assert (await c.get("/docs/static/swagger-ui.css")).status_code == 200
        r = await c.get("/robots.txt")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert r.text == "User-agent: *\nDisallow: /\n"
