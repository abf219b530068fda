"""Embedded mode: the backend serves the built SPA (`frontend/dist`) with a history fallback.

Text files (bundles, index.html, the manifest, SVG icons) go out compressed to clients that accept
it: the build writes a brotli (.br) and a gzip (.gz) copy beside each one
(frontend/scripts/precompress.mjs), sent as they are, brotli first; a file without them is
gzip-compressed here, once per file version, and kept in memory. nginx in compose sends the same
.gz copies (gzip_static) but not the .br ones (it would need a module). Hashed bundles under
/assets/ are cached by browsers for a year (their names change with their content), everything
else is revalidated on each load so a new release, and its service worker, are picked up at once.

The HTML for `/status/<slug>` and for `/` carries the status page's own framing policy (its
embed origins in CSP frame-ancestors), and `/` on a page's custom domain names that page on the
root element so the SPA shows it there; frontend/nginx.conf does the same in compose.
"""

from __future__ import annotations

import gzip
import mimetypes
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, Response

from app.core.headers import APP_CSP
from app.services.status import access

RESERVED = ("api/", "ws/", "health", "docs", "openapi.json", "metrics")
IMMUTABLE = "public, max-age=31536000, immutable"
COMPRESSIBLE = {".js", ".mjs", ".css", ".html", ".svg", ".json", ".webmanifest", ".txt", ".map"}
MIN_GZIP_BYTES = 1024  # below this the gzip header costs more than it saves

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")  # some systems' tables say application/x-javascript


@lru_cache(maxsize=128)
def _gzipped(path: Path, _mtime_ns: int, _size: int) -> bytes:
    """The file compressed; its version (mtime, size) is part of the key, so a rebuild is seen."""
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


# Content codings in order of preference, with the suffix of the build's precompressed copy.
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))


def _accepted(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (a q of 0 refuses one)."""
    codings = set()
    for part in header.lower().split(","):
        name, *params = (p.strip() for p in part.split(";"))
        q = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            if name and float(q) > 0:
                codings.add(name)
        except ValueError:
            continue
    return codings


def _media_type(path: Path) -> str:
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media.startswith("text/") or media.endswith(("javascript", "+json", "/json", "+xml")):
        media += "; charset=utf-8"
    return media


def _serve(request: Request, path: Path, cache: str) -> Response:
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    if path.suffix not in COMPRESSIBLE:
        return FileResponse(path, headers=headers)
    accepted = _accepted(request.headers.get("accept-encoding", ""))
    for coding, suffix in PRECOMPRESSED:
        copy = path.with_name(path.name + suffix)
        if coding in accepted and copy.is_file():
            return FileResponse(
                copy,
                media_type=_media_type(path),
                headers={**headers, "Content-Encoding": coding},
            )
    st = path.stat()
    if "gzip" in accepted and st.st_size >= MIN_GZIP_BYTES:
        body = _gzipped(path, st.st_mtime_ns, st.st_size)
        return Response(
            body, media_type=_media_type(path), headers={**headers, "Content-Encoding": "gzip"}
        )
    return FileResponse(path, headers=headers)


ROOT_TAG = '<div id="root">'


@lru_cache(maxsize=4)
def _text(path: Path, _mtime_ns: int, _size: int) -> str:
    return path.read_text(encoding="utf-8")


def _index_text(index: Path) -> str:
    st = index.stat()
    return _text(index, st.st_mtime_ns, st.st_size)


async def _page_html(request: Request, index: Path, path: str) -> Response | None:
    """A status page's shell (status.html, where built) with its framing policy, or None where
    no status page applies (the app's own index.html then goes out as usual)."""
    if path and not path.startswith("status/"):
        return None
    async with request.app.state.unity.db.session(read_only=True) as session:
        policy = await access.html_policy(session, request.headers.get("host", ""), "/" + path)
    shows_page = path.startswith("status/") or policy.status_page is not None
    if not shows_page:
        return None
    own_shell = index.with_name("status.html")
    html = _index_text(own_shell if own_shell.is_file() else index)
    if policy.status_page is not None:  # a slug: [a-z0-9-] only, safe in an attribute
        html = html.replace(ROOT_TAG, f'<div id="root" data-status-page="{policy.status_page}">')
    csp = access.html_csp(APP_CSP, policy.frame_ancestors)
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": csp}
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


def mount_spa(app: FastAPI, dist: Path) -> None:
    index = dist / "index.html"
    if not index.is_file():
        return
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(request: Request, path: str) -> Response:
        if path.startswith(RESERVED):
            raise HTTPException(404)
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            hashed = path.startswith("assets/")
            return _serve(request, candidate, IMMUTABLE if hashed else "no-cache")
        if path.startswith("assets/"):  # a bundle of another build: no HTML in its place
            raise HTTPException(404)
        page_html = await _page_html(request, index, path)
        if page_html is not None:
            return page_html
        return _serve(request, index.resolve(), "no-cache")
