"""Status page logos: PNG, WebP or SVG up to 256 KB, checked by their bytes, SVG rebuilt clean.

An SVG is parsed and written out again keeping only drawing elements and presentation
attributes: no script, no event handler, no foreign object, no link or style that reaches
outside the file. A logo given as a URL is fetched once, through the checks' egress policy,
and stored like an upload, so the public page never loads anything from elsewhere.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET  # nosec B405
from dataclasses import dataclass

from app.core import egress
from app.core.errors import InvalidInput

MAX_BYTES = 256 * 1024
FETCH_TIMEOUT = 10.0
PNG, WEBP, SVG = "image/png", "image/webp", "image/svg+xml"
TYPES = (PNG, WEBP, SVG)
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ELEMENTS = frozenset(
    [
        "svg",
        "g",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "title",
        "desc",
        "defs",
        "use",
        "symbol",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "pattern",
    ]
)
ATTRIBUTES = frozenset(
    [
        "id",
        "class",
        "viewBox",
        "width",
        "height",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-dasharray",
        "stroke-miterlimit",
        "opacity",
        "font-family",
        "font-size",
        "font-weight",
        "text-anchor",
        "dominant-baseline",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
        "fx",
        "fy",
        "clip-path",
        "clip-rule",
        "mask",
        "preserveAspectRatio",
        "patternUnits",
        "version",
        "href",
    ]
)
# url(#local) is fine; url(anything-else) would fetch from elsewhere.
_OUTSIDE_URL = re.compile(r"url\(\s*['\"]?(?!#)", re.IGNORECASE)


@dataclass(frozen=True)
class Logo:
    data: bytes
    media_type: str
    sha256: str


def _too_big() -> InvalidInput:
    return InvalidInput(
        f"The logo is larger than {MAX_BYTES // 1024} KB; use a smaller image.",
        {"logo": "at most 256 KB"},
    )


def _bad(sentence: str) -> InvalidInput:
    return InvalidInput(sentence, {"logo": sentence})


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if (
        head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype"))
        and b"<svg" in data[:4096].lower()
    ):
        return SVG
    return None


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _clean(element: ET.Element) -> None:
    for child in list(element):
        tag = child.tag if isinstance(child.tag, str) else ""
        if not tag.startswith("{" + SVG_NS + "}") or _local(tag) not in ELEMENTS:
            element.remove(child)  # script, foreignObject, style, image, a, other namespaces
            continue
        _clean(child)
    for name in list(element.attrib):
        value = element.attrib[name]
        local = _local(name)
        namespace_ok = not name.startswith("{") or name.startswith("{" + XLINK_NS + "}")
        keep = namespace_ok and local in ATTRIBUTES and not _OUTSIDE_URL.search(value)
        if local == "href":
            keep = keep and value.startswith("#")  # only references inside the file
        if not keep:
            del element.attrib[name]


def sanitise_svg(data: bytes) -> bytes:
    # A DOCTYPE (so any entity declaration) is refused before expat ever sees the file.
    if b"<!doctype" in data.lower() or b"<!entity" in data.lower():
        raise _bad("The SVG declares a DOCTYPE or entities; save it as plain SVG.")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DOCTYPE, checked above  # nosec B314
    except ET.ParseError as exc:
        raise _bad(f"The SVG is not well-formed XML ({str(exc)[:100]}).") from None
    if root.tag != "{" + SVG_NS + "}svg":
        raise _bad("The file's root element is not an SVG <svg> in the SVG namespace.")
    _clean(root)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    cleaned: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return cleaned


def check(data: bytes, declared: str | None = None) -> Logo:
    """A logo from uploaded bytes; 422 with a sentence when it is none of the three kinds."""
    if len(data) > MAX_BYTES:
        raise _too_big()
    if not data:
        raise _bad("The logo is empty; send the image file as the request body.")
    kind = sniff(data)
    if kind is None:
        raise _bad("The logo must be a PNG, WebP or SVG image (its bytes say it is none).")
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared not in TYPES and declared != "application/octet-stream":
        raise _bad(f"A logo of type {declared[:60]!r} is not accepted; use PNG, WebP or SVG.")
    if kind == SVG:
        data = sanitise_svg(data)
    return Logo(data, kind, hashlib.sha256(data).hexdigest())


async def fetch(url: str) -> Logo:
    """Download a logo once (through the egress policy, at most 256 KB) and check it."""
    import httpx  # only a logo fetch needs it: not loaded at start-up

    if not url.startswith(("http://", "https://")):
        raise InvalidInput(
            "The logo URL must start with http:// or https://.", {"url": "not an http(s) URL"}
        )
    try:
        async with (
            httpx.AsyncClient(
                transport=egress.guarded_transport(), timeout=FETCH_TIMEOUT, follow_redirects=True
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise InvalidInput(
                    f"Fetching the logo answered HTTP {response.status_code}; check the URL.",
                    {"url": f"HTTP {response.status_code}"},
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise _too_big()
            declared = response.headers.get("content-type")
    except egress.EgressDenied as exc:
        raise InvalidInput(f"The logo URL is refused: {exc}", {"url": "refused"}) from None
    except httpx.HTTPError as exc:
        raise InvalidInput(
            f"The logo could not be fetched: {str(exc)[:150] or type(exc).__name__}.",
            {"url": "unreachable"},
        ) from None
    return check(bytes(body), declared)
