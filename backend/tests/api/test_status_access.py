"""Status pages behind a password, on their own host name, framed by chosen sites, with a logo:
what a visitor, a framing site and an admin each see, on both databases."""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from tests.conftest import add_plugin, asgi_client, running_app, setup_admin

SECRET = "open-sesame-42"


def _png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def _page(app: Any, client: httpx.AsyncClient, admin: dict[str, str], **fields: Any) -> Any:
    plugin = await add_plugin(app.state.unity.db, f"p-{fields.get('slug', 'home')}")
    body = {
        "slug": "home",
        "title": "Home lab",
        "published": True,
        "groups": [{"name": "", "items": [{"plugin_id": plugin, "name": "NAS", "key": "nas"}]}],
        **fields,
    }
    r = await client.post("/api/v1/status-pages", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_protected_page_opens_only_with_its_password_and_only_itself(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    made = await _page(app, client, admin, password=SECRET)
    assert made["has_password"] is True
    assert "password" not in made and "password_hash" not in made
    assert SECRET not in (await client.get("/api/v1/status-pages", headers=admin)).text
    await _page(app, client, admin, slug="other", password="another-secret")

    for path in (
        "/api/v1/public/status/home",
        "/api/v1/public/status/home/summary",
        "/api/v1/public/badge/home/nas/status",
        "/api/v1/public/badge/home/nas/uptime",
    ):
        r = await client.get(path)
        assert r.status_code == 401, path
        assert r.json()["detail"] == "This status page is protected: enter its password to see it."

    wrong = await client.post("/api/v1/public/status/home/unlock", json={"password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "That password does not open this status page."
    assert "set-cookie" not in wrong.headers
    # A page that does not exist answers exactly as a wrong password does.
    missing = await client.post("/api/v1/public/status/ghost/unlock", json={"password": "nope"})
    assert (missing.status_code, missing.json()) == (401, wrong.json())

    r = await client.post("/api/v1/public/status/home/unlock", json={"password": SECRET})
    assert r.status_code == 200 and r.json()["ok"] is True
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("unity_status_home=")
    assert "HttpOnly" in cookie and "Path=/api/v1/public/" in cookie and "SameSite=lax" in cookie
    r = await client.get("/api/v1/public/status/home")
    assert r.status_code == 200 and r.json()["title"] == "Home lab"
    assert r.headers["cache-control"] == "private, max-age=30" and r.headers["vary"] == "Cookie"
    assert (await client.get("/api/v1/public/status/home/summary")).status_code == 200
    # The cookie is this page's alone.
    assert (await client.get("/api/v1/public/status/other")).status_code == 401
    token = client.cookies.get("unity_status_home")
    forged = {"Cookie": f"unity_status_other={token}"}
    assert (await client.get("/api/v1/public/status/other", headers=forged)).status_code == 401

    # A new password ends every visitor's access given under the old one.
    r = await client.patch(
        f"/api/v1/status-pages/{made['id']}", json={"password": "brand-new-pass"}, headers=admin
    )
    assert r.status_code == 200
    assert (await client.get("/api/v1/public/status/home")).status_code == 401
    # An empty string removes it: the page is open again, and cacheable by anyone.
    r = await client.patch(
        f"/api/v1/status-pages/{made['id']}", json={"password": ""}, headers=admin
    )
    assert r.json()["has_password"] is False
    client.cookies.clear()
    r = await client.get("/api/v1/public/status/home")
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=30"

    r = await client.patch(
        f"/api/v1/status-pages/{made['id']}", json={"password": "short"}, headers=admin
    )
    assert r.status_code == 422 and "password" in r.json()["fields"]


async def test_guessing_a_page_password_is_rate_limited(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await _page(app, client, admin, password=SECRET)
    for _ in range(10):
        r = await client.post("/api/v1/public/status/home/unlock", json={"password": "guess"})
        assert r.status_code == 401
    r = await client.post("/api/v1/public/status/home/unlock", json={"password": SECRET})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.json()["detail"].startswith("Too many wrong passwords; try again in ")


async def test_custom_domain_names_the_page_shown_at_the_root_of_that_host(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    made = await _page(app, client, admin, custom_domain="status.example.org")
    assert made["custom_domain"] == "status.example.org"
    r = await client.post(
        "/api/v1/status-pages",
        json={"slug": "two", "title": "Two", "custom_domain": "status.example.org"},
        headers=admin,
    )
    assert r.status_code == 409 and "already answers on 'status.example.org'" in r.json()["detail"]
    for bad in ("https://status.example.org", "status.example.org:8080", "localhost", "a b.org"):
        r = await client.post(
            "/api/v1/status-pages",
            json={"slug": "two", "title": "Two", "custom_domain": bad},
            headers=admin,
        )
        assert r.status_code == 422 and "custom_domain" in r.json()["fields"], bad

    async def policy(host: str, path: str = "/") -> Any:
        r = await client.get(
            "/api/v1/public/frame-policy", params={"path": path}, headers={"Host": host}
        )
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        return r

    r = await policy("Status.Example.org:443")
    assert r.json() == {"status_page": "home", "frame_ancestors": "'none'"}
    assert r.headers["x-unity-status-page"] == "home"
    assert (await policy("status.example.org", "/settings")).json()["status_page"] is None
    assert (await policy("unity.lan")).json()["status_page"] is None
    # Unpublished: the host name shows nothing.
    await client.patch(
        f"/api/v1/status-pages/{made['id']}", json={"published": False}, headers=admin
    )
    assert (await policy("status.example.org")).json()["status_page"] is None
    r = await client.patch(
        f"/api/v1/status-pages/{made['id']}", json={"custom_domain": ""}, headers=admin
    )
    assert r.json()["custom_domain"] is None


async def test_embed_origins_are_checked_and_reach_frame_ancestors(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for bad in ("https://x.org; script-src *", "javascript:alert(1)", "*", "https://a.org/path"):
        r = await client.post(
            "/api/v1/status-pages",
            json={"slug": "bad", "title": "Bad", "embed_origins": [bad]},
            headers=admin,
        )
        assert r.status_code == 422 and "embed_origins" in str(r.json()["fields"]), bad
    origins = ["https://home.example.org", "http://dash.lan:3000", "'self'"]
    made = await _page(app, client, admin, embed_origins=origins)
    assert made["embed_origins"] == origins
    r = await client.get("/api/v1/public/frame-policy", params={"path": "/status/home"})
    assert r.json()["frame_ancestors"] == "https://home.example.org http://dash.lan:3000 'self'"
    r = await client.get("/api/v1/public/frame-policy", params={"path": "/status/ghost"})
    assert r.json()["frame_ancestors"] == "'none'"
    # The API's own answers are never framed, whatever a page allows.
    r = await client.get("/api/v1/public/status/home")
    assert r.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert r.headers["x-frame-options"] == "DENY"


@pytest.fixture
def spa_settings(settings: Settings, tmp_path: Path) -> Settings:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text('<!doctype html><body><div id="root"></div></body>')
    (dist / "status.html").write_text('<!doctype html><body><div id="root"></div>status</body>')
    return settings.model_copy(update={"frontend_dist": dist})


async def test_the_backend_serves_page_html_with_its_framing_and_domain(
    spa_settings: Settings,
) -> None:
    """Without nginx (`make run`), the SPA's HTML carries each page's policy itself."""
    async with running_app(spa_settings) as app, asgi_client(app, "http://unity.lan") as c:
        admin = await setup_admin(c)
        await _page(
            app,
            c,
            admin,
            custom_domain="status.example.org",
            embed_origins=["https://home.example.org"],
        )
        r = await c.get("/status/home")
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert csp.endswith("frame-ancestors https://home.example.org")
        assert "script-src 'self'" in csp and "x-frame-options" not in r.headers
        assert "data-status-page" not in r.text and r.text.endswith("status</body>")

        r = await c.get("/", headers={"Host": "status.example.org"})
        assert '<div id="root" data-status-page="home">' in r.text
        assert r.text.endswith("status</body>")  # the page's own small shell
        assert r.headers["content-security-policy"].endswith(
            "frame-ancestors https://home.example.org"
        )
        for path in ("/", "/settings", "/status/ghost"):
            r = await c.get(path)  # the app's own host, and everything else: never framed
            assert '<div id="root">' in r.text, path
            assert r.text.endswith("status</body>") == (path == "/status/ghost"), path
            assert r.headers["content-security-policy"].endswith("frame-ancestors 'none'"), path
            assert r.headers["x-frame-options"] == "DENY", path


class _Files:
    """A loopback HTTP server answering fixed bodies by path."""

    def __init__(self, files: dict[str, tuple[str, bytes]]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                media, body = files.get(self.path, ("text/plain", b""))
                self.send_response(200 if self.path in files else 404)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def files() -> Iterator[_Files]:
    evil = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
        b'<script>alert(2)</script><rect width="10" height="10" fill="url(#g)"/></svg>'
    )
    server = _Files(
        {
            "/logo.png": ("image/png", _png()),
            "/evil.svg": ("image/svg+xml", evil),
            "/big.png": ("image/png", _png() + b"\x00" * 300_000),
            "/page.html": ("text/html", b"<html>not an image</html>"),
        }
    )
    yield server
    server.server.shutdown()
    server.server.server_close()


async def test_logo_upload_types_sizes_sanitising_and_serving(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    made = await _page(app, client, admin)
    assert made["logo_url"] is None
    url = f"/api/v1/status-pages/{made['id']}/logo"
    png = _png()
    r = await client.put(url, content=png, headers={**viewer, "Content-Type": "image/png"})
    assert r.status_code == 403
    r = await client.put(url, content=png, headers={**admin, "Content-Type": "image/png"})
    assert r.status_code == 200, r.text
    logo_url = r.json()["logo_url"]
    assert logo_url.startswith("/api/v1/public/status/home/logo?v=")
    assert (await client.get("/api/v1/public/status/home")).json()["logo"] == logo_url

    r = await client.get(logo_url)
    assert r.status_code == 200 and r.content == png
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "public, max-age=86400"
    again = await client.get(logo_url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304

    refusals = {
        b"GIF89a\x01\x00\x01\x00": "PNG, WebP or SVG",
        png + b"\x00" * (256 * 1024): "larger than 256 KB",
        b"": "empty",
        b'<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>': "DOCTYPE",
        b"<svg><unclosed></svg>": "not well-formed",
    }
    for body, sentence in refusals.items():
        r = await client.put(url, content=body, headers={**admin, "Content-Type": "image/png"})
        assert r.status_code == 422 and sentence in r.json()["detail"], sentence
    assert (await client.get(logo_url)).content == png  # a refused upload changes nothing

    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        b'viewBox="0 0 10 10" onload="alert(1)"><script>alert(2)</script>'
        b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'
        b'<a href="javascript:alert(3)"><rect width="5" height="5"/></a>'
        b'<use xlink:href="https://evil.example/x.svg#a"/><use href="#c"/>'
        b'<circle id="c" r="4" fill="red" style="fill:url(https://evil.example/t)"/></svg>'
    )
    r = await client.put(url, content=svg, headers={**admin, "Content-Type": "image/svg+xml"})
    assert r.status_code == 200, r.text
    served = await client.get(r.json()["logo_url"])
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in served.headers["content-security-policy"]
    text = served.text
    for gone in ("script", "alert", "onload", "foreignObject", "evil.example", "javascript:"):
        assert gone not in text, gone
    assert '<circle id="c" r="4" fill="red"' in text and 'href="#c"' in text

    r = await client.delete(url, headers=admin)
    assert r.status_code == 200 and r.json()["logo_url"] is None
    r = await client.get("/api/v1/public/status/home/logo")
    assert r.status_code == 404 and "has no logo" in r.json()["detail"]


async def test_a_logo_url_is_fetched_once_through_the_egress_policy(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], files: _Files
) -> None:
    made = await _page(app, client, admin, password=SECRET)
    fetch = f"/api/v1/status-pages/{made['id']}/logo/fetch"
    r = await client.post(fetch, json={"url": f"{files.url}/logo.png"}, headers=admin)
    assert r.status_code == 200, r.text
    logo_url = r.json()["logo_url"]
    # A protected page's logo is the visitor's too.
    assert (await client.get(logo_url)).status_code == 401
    await client.post("/api/v1/public/status/home/unlock", json={"password": SECRET})
    r = await client.get(logo_url)
    assert r.content == _png() and r.headers["cache-control"] == "private, max-age=86400"

    r = await client.post(fetch, json={"url": f"{files.url}/evil.svg"}, headers=admin)
    assert r.status_code == 200
    assert b"alert" not in (await client.get(r.json()["logo_url"])).content
    cases = {
        f"{files.url}/big.png": "larger than 256 KB",
        f"{files.url}/page.html": "PNG, WebP or SVG",
        f"{files.url}/missing.png": "HTTP 404",
        "http://169.254.169.254/latest/meta-data/": "refused",
        "file:///etc/passwd": "must start with http",
    }
    for target, sentence in cases.items():
        r = await client.post(fetch, json={"url": target}, headers=admin)
        assert r.status_code == 422 and sentence in r.json()["detail"], (target, r.text)
