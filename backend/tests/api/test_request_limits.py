"""Request limits without nginx in front: the issue's 20 MB cases answer 413 or 422 at once,
echo nothing big back and leave nothing stored."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings
from tests.live import serve_in_process

MB = 1024 * 1024
TWENTY_MB = 20 * MB
CHUNK = 64 * 1024


class Source:
    """A request body of `total` bytes, made lazily; counts how much the server pulled."""

    def __init__(self, prefix: bytes, total: int, suffix: bytes = b'"}}') -> None:
        self.prefix, self.total, self.suffix = prefix, total, suffix
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        filler = b"x" * CHUNK
        self.sent += len(self.prefix)
        yield self.prefix
        while self.sent < self.total:
            self.sent += CHUNK
            yield filler
        yield self.suffix


def http_plugin(**config: Any) -> dict[str, Any]:
    return {"name": "site", "type": "http", "config": {"url": "http://127.0.0.1:9/", **config}}


async def assert_nothing_stored(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.get("/api/v1/plugins", headers=admin)
    assert r.status_code == 200 and r.json() == []


async def test_a_20_mb_header_value_streamed_is_refused_while_it_streams(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    prefix = b'{"name":"s","type":"http","config":{"url":"http://127.0.0.1:9/","headers":{"X":"'
    body = Source(prefix, TWENTY_MB)
    headers = {**admin, "Content-Type": "application/json"}
    tracemalloc.start()
    try:
        r = await client.post("/api/v1/plugins", headers=headers, content=body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 413
    assert r.json()["error"] == "PayloadTooLarge"
    assert "1 MB" in r.json()["detail"] and "MAX_BODY_BYTES" in r.json()["detail"]
    # The server stopped reading just past the limit, and never held the 20 MB.
    assert body.sent <= MB + 2 * CHUNK
    assert peak < 8 * MB
    await assert_nothing_stored(client, admin)


async def test_a_declared_20_mb_body_is_refused_before_a_byte_is_read(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = Source(b'{"name":"', TWENTY_MB)
    headers = {**admin, "Content-Type": "application/json", "Content-Length": str(TWENTY_MB)}
    r = await client.post("/api/v1/plugins", headers=headers, content=body)
    assert r.status_code == 413 and r.json()["error"] == "PayloadTooLarge"
    assert body.sent == 0
    await assert_nothing_stored(client, admin)


@pytest.mark.parametrize("field", ["name", "keyword"])
async def test_a_20_mb_name_or_keyword_gets_413_not_an_echo(
    client: httpx.AsyncClient, admin: dict[str, str], field: str
) -> None:
    # As the user sent it: one JSON document, Content-Length set by the client.
    big = "n" * TWENTY_MB
    payload = http_plugin(keyword=big) if field == "keyword" else {**http_plugin(), "name": big}
    r = await client.post("/api/v1/plugins", headers=admin, json=payload)
    assert r.status_code == 413
    assert len(r.content) < 500
    await assert_nothing_stored(client, admin)


async def test_the_body_limit_is_exact_at_its_boundary(tmp_path: Path) -> None:
    limit = 4096
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, max_body_bytes=limit)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            for size, status in ((limit, 422), (limit + 1, 413)):
                # Valid JSON of exactly `size` bytes: at the limit it is parsed (and found
                # wanting), one byte over it is refused unread.
                doc = b'{"x":"' + b"a" * (size - 8) + b'"}'
                assert len(doc) == size
                r = await c.post(
                    "/api/v1/auth/setup",
                    content=doc,
                    headers={"Content-Type": "application/json"},
                )
                assert r.status_code == status, r.text
                assert "4 KB" in r.text if status == 413 else True


async def test_a_422_never_echoes_a_long_input(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    long_key = "k" * 50_000  # under the 64 KB config limit, so the type judges it
    r = await client.post(
        "/api/v1/plugins", headers=admin, json=http_plugin(**{long_key: 1}, keyword="z" * 600)
    )
    assert r.status_code == 422
    assert len(r.content) < 1000, r.text[:300]
    assert "must be at most 500 characters long" in r.json()["fields"]["config.keyword"]
    assert any(k.startswith("config.kkkk") and k.endswith("…") for k in r.json()["fields"])
    r = await client.post(
        "/api/v1/plugins", headers=admin, json={**http_plugin(), "name": "n" * 101}
    )
    assert r.status_code == 422 and "n" * 101 not in r.text
    await assert_nothing_stored(client, admin)


async def test_many_wrong_fields_are_named_up_to_a_limit(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    extra = {f"k{i}": 1 for i in range(5000)}
    r = await client.post("/api/v1/plugins", headers=admin, json=http_plugin(**extra))
    assert r.status_code == 422
    assert len(r.json()["fields"]) <= 20
    assert len(r.content) < 5000


async def test_field_limits_at_their_boundaries(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({**http_plugin(), "name": "n" * 101}, "name"),
        (http_plugin(url="http://127.0.0.1/" + "u" * 2048), "config.url"),
        (http_plugin(headers={"X-Big": "v" * 4097}), "config.headers.X-Big"),
        (http_plugin(headers={"Bad Name": "v"}), "config.headers.Bad Name.[key]"),
        (http_plugin(keyword="k" * 501), "config.keyword"),
    ]
    for payload, field in cases:
        r = await client.post("/api/v1/plugins", headers=admin, json=payload)
        assert r.status_code == 422, (field, r.text[:200])
        assert field in r.json()["fields"], (field, r.json())
    await assert_nothing_stored(client, admin)
    ok = {**http_plugin(headers={"X-Big": "v" * 4096}, keyword="k" * 500), "name": "n" * 100}
    ok["enabled"] = False
    r = await client.post("/api/v1/plugins", headers=admin, json=ok)
    assert r.status_code == 201, r.text[:300]


async def test_a_plugin_config_over_64_kb_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    headers = {f"X-H{i}": "v" * 3000 for i in range(25)}  # each value fine, ~75 KB together
    r = await client.post("/api/v1/plugins", headers=admin, json=http_plugin(headers=headers))
    assert r.status_code == 422
    assert r.json()["fields"]["config"] == "must be at most 64 KB as JSON"
    await assert_nothing_stored(client, admin)


async def test_a_plugin_config_update_over_64_kb_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/plugins", headers=admin, json=http_plugin())
    assert r.status_code == 201, r.text
    path = f"/api/v1/plugins/{r.json()['id']}"
    headers = {f"X-H{i}": "v" * 3000 for i in range(25)}
    body = {"config": {"url": "http://127.0.0.1:9/", "headers": headers}}
    r = await client.patch(path, headers=admin, json=body)
    assert r.status_code == 422
    assert r.json()["fields"]["config"] == "must be at most 64 KB as JSON"
    r = await client.patch(path, headers=admin, json={"enabled": False})
    assert r.status_code == 200, r.text


async def test_a_real_server_refuses_a_declared_20_mb_body(tmp_path: Path) -> None:
    """uvicorn on loopback, nothing in front: the 413 comes before the body is sent."""
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    async with serve_in_process(create_app(settings)) as host:
        address, port = host.split(":")
        reader, writer = await asyncio.open_connection(address, int(port))
        writer.write(
            b"POST /api/v1/auth/setup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {TWENTY_MB}\r\n\r\n".encode()
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert head.startswith(b"HTTP/1.1 413"), head
        length = int(
            next(
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
        )
        body = json.loads(await reader.readexactly(length))
        assert body["error"] == "PayloadTooLarge"
        writer.close()
