"""Status pages through the project's nginx.conf: each page's framing policy and custom domain
reach the SPA's HTML (nginx asks the backend through auth_request), and nothing else is framed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx

from tests.conftest import skip_or_fail

from .conftest import REPO
from .test_topology import PASSWORD, Stack, stack, stop  # noqa: F401 - `stack` is the fixture

EMBED = "https://home.example.org"
FRAMED_CSP_END = f"frame-ancestors {EMBED}"


def test_status_page_html_through_nginx_carries_its_own_framing(
    stack: Stack,  # noqa: F811
    tmp_path: Path,
) -> None:
    web = httpx.Client(base_url=stack.web, timeout=15)
    assert web.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
    r = web.post("/api/v1/auth/login", data={"username": "admin", "password": PASSWORD})
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    page = {
        "slug": "home",
        "title": "Home",
        "published": True,
        "custom_domain": "status.example.org",
        "embed_origins": [EMBED],
    }
    r = web.post("/api/v1/status-pages", json=page, headers=auth)
    assert r.status_code == 201, r.text

    # The status page's own small entry, beside the app's (stack serves tmp_path / "html").
    (tmp_path / "html" / "status.html").write_text(
        '<!doctype html><body><div id="root"></div>status shell</body>' + "<!-- pad -->" * 200
    )
    # With the build's .gz copies beside them (gzip_static), the shells still get their page.
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is needed to run frontend/scripts/precompress.mjs")
    script = REPO / "frontend" / "scripts" / "precompress.mjs"
    subprocess.run([node, str(script), str(tmp_path / "html")], check=True, timeout=60)
    assert (tmp_path / "html" / "status.html.gz").is_file()
    framed = web.get("/status/home")
    assert framed.status_code == 200 and '<div id="root">' in framed.text
    assert "status shell" in framed.text
    csp = framed.headers["content-security-policy"]
    assert csp.endswith(FRAMED_CSP_END) and "script-src 'self'" in csp
    assert "x-frame-options" not in framed.headers
    assert framed.headers["x-content-type-options"] == "nosniff"
    assert framed.headers["cache-control"] == "no-cache"
    assert framed.headers.get_list("content-security-policy") == [csp]  # once, not twice

    own_host = web.get("/", headers={"Host": "status.example.org"})
    assert '<div id="root" data-status-page="home">' in own_host.text
    assert "status shell" in own_host.text
    assert own_host.headers["content-security-policy"].endswith(FRAMED_CSP_END)

    for path in ("/", "/status/ghost", "/settings", "/index.html", "/api/v1/public/status/home"):
        r = web.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"].endswith("frame-ancestors 'none'"), path
        assert r.headers["x-frame-options"] == "DENY", path
        assert 'data-status-page="home"' not in r.text, path
        if path in ("/", "/settings"):
            assert "status shell" not in r.text, path

    # Without a backend to ask, the shell still opens, and it is never framed.
    assert web.get("/robots.txt").text == "User-agent: *\nAllow: /status/\nDisallow: /\n"
    stop(stack.backend_proc)
    r = web.get("/status/home")
    assert r.status_code == 200 and '<div id="root">' in r.text
    assert r.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert r.headers["x-frame-options"] == "DENY"
