"""Embedded mode: the backend serves the built UI itself, with a history fallback."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

from tests.conftest import asgi_client, make_settings, running_app, skip_or_fail

FRONTEND = Path(__file__).resolve().parents[3] / "frontend"
# Node's own brotli (the build's) undoes what the backend sent: stdin in, stdout out.
UNBROTLI = (
    "const z = require('zlib'); "
    "process.stdout.write(z.brotliDecompressSync(require('fs').readFileSync(0)))"
)


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
        r = await c.get("/assets/app-1234.js")
        assert r.text == "console.log('unity')"
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
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
        assert r.text == "User-agent: *\nAllow: /status/\nDisallow: /\n"


async def test_the_ui_goes_out_compressed_with_its_manifest_and_service_worker(
    tmp_path: Path,
) -> None:
    """Gzip for text when asked, the right types for the installable app's files."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>" + "<!-- pad -->" * 200)
    bundle = "export const unity = 'dashboard';\n" * 400
    (dist / "assets" / "index-abcd.js").write_text(bundle)
    (dist / "manifest.webmanifest").write_text('{"name": "Unity", "icons": []}')
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});\n" * 40)
    (dist / "icon-192.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    settings = make_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, frontend_dist=dist)
    async with running_app(settings) as app, asgi_client(app) as c:
        gz = {"Accept-Encoding": "gzip, br"}
        r = await c.get("/assets/index-abcd.js", headers=gz)
        assert r.headers["content-encoding"] == "gzip" and r.text == bundle  # httpx decodes it
        assert int(r.headers["content-length"]) < len(bundle) // 10
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["vary"] == "Accept-Encoding"
        assert "immutable" in r.headers["cache-control"]
        plain = await c.get("/assets/index-abcd.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.text == bundle
        for path in ("/", "/plugins/3"):  # the shell itself, compressed and always revalidated
            r = await c.get(path, headers=gz)
            assert r.headers["content-encoding"] == "gzip" and "id=root" in r.text, path
            assert r.headers["cache-control"] == "no-cache", path
        r = await c.get("/manifest.webmanifest", headers=gz)
        assert r.headers["content-type"] == "application/manifest+json"
        assert r.json()["name"] == "Unity"
        r = await c.get("/sw.js", headers=gz)  # a new build's worker is seen on the next load
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["content-encoding"] == "gzip" and "addEventListener" in r.text
        r = await c.get("/icon-192.png", headers=gz)  # already compressed: sent as it is
        assert r.headers["content-type"] == "image/png" and "content-encoding" not in r.headers
        assert (await c.get("/assets/index-old1.js")).status_code == 404


def _run_node(node: str, args: list[str], data: bytes = b"") -> bytes:
    done = subprocess.run([node, *args], input=data, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


async def test_the_builds_brotli_copies_go_to_browsers_that_accept_br(tmp_path: Path) -> None:
    """The build's own compression step (frontend/scripts/precompress.mjs) writes .br and .gz
    beside each text file; the backend sends them as they are: brotli first, then gzip."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is needed to run frontend/scripts/precompress.mjs")
    assert node is not None
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    index = "<!doctype html><div id=root></div>" + "<!-- shell -->" * 200
    (dist / "index.html").write_text(index)
    bundle = "export const unity = 'dashboard';\n" * 400
    (dist / "assets" / "index-abcd.js").write_text(bundle)
    (dist / "assets" / "tiny-ef01.css").write_text("body{margin:0}")
    _run_node(node, [str(FRONTEND / "scripts" / "precompress.mjs"), str(dist)])
    js = dist / "assets" / "index-abcd.js"
    assert (dist / "index.html.br").is_file() and (dist / "index.html.gz").is_file()
    assert not (dist / "assets" / "tiny-ef01.css.br").exists()  # too small to gain anything

    settings = make_settings(f"sqlite:///{tmp_path}/x.db", tmp_path, frontend_dist=dist)
    async with running_app(settings) as app, asgi_client(app) as c:

        async def raw(path: str, accept: str) -> tuple[dict[str, str], bytes]:
            async with c.stream("GET", path, headers={"Accept-Encoding": accept}) as r:
                assert r.status_code == 200, path
                return dict(r.headers), b"".join([part async for part in r.aiter_raw()])

        headers, body = await raw("/assets/index-abcd.js", "gzip, deflate, br, zstd")
        assert headers["content-encoding"] == "br"
        assert headers["content-type"].startswith("text/javascript")
        assert headers["vary"] == "Accept-Encoding" and "immutable" in headers["cache-control"]
        assert body == js.with_name(js.name + ".br").read_bytes()  # the build's copy, as it is
        assert len(body) < len(bundle) // 10
        assert _run_node(node, ["-e", UNBROTLI], body).decode() == bundle

        for path in ("/", "/plugins/3"):  # the shell, compressed, always revalidated
            headers, body = await raw(path, "br")
            assert headers["content-encoding"] == "br" and headers["cache-control"] == "no-cache"
            assert _run_node(node, ["-e", UNBROTLI], body).decode() == index

        for accept in ("gzip", "br;q=0, gzip;q=0.8"):  # no brotli wanted: the gzip copy
            headers, body = await raw("/assets/index-abcd.js", accept)
            assert headers["content-encoding"] == "gzip", accept
            assert gzip.decompress(body).decode() == bundle

        headers, body = await raw("/assets/index-abcd.js", "identity")
        assert "content-encoding" not in headers and body.decode() == bundle
        headers, body = await raw("/assets/tiny-ef01.css", "br, gzip")
        assert "content-encoding" not in headers and body == b"body{margin:0}"
