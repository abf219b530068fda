"""Every error a client can meet has one body: {"error", "detail"}, plus "fields" on bad input."""

from __future__ import annotations

import httpx


def assert_shape(body: dict, error: str) -> None:
    assert body["error"] == error, body
    assert isinstance(body["detail"], str) and body["detail"].endswith("."), body
    assert set(body) <= {"error", "detail", "fields"}, body


async def test_an_unknown_route_answers_not_found(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.get("/api/v1/nothing-here", headers=admin)
    assert r.status_code == 404
    assert_shape(r.json(), "NotFound")
    assert "/api/v1/nothing-here" in r.json()["detail"]


async def test_a_wrong_method_answers_method_not_allowed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.put("/api/v1/plugins", headers=admin, json={})
    assert r.status_code == 405
    assert_shape(r.json(), "MethodNotAllowed")
    assert "PUT" in r.json()["detail"] and "GET" in r.headers["allow"]


async def test_malformed_json_says_so(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.post(
        "/api/v1/plugins",
        headers={**admin, "Content-Type": "application/json"},
        content=b'{"name": "x",',
    )
    assert r.status_code == 422
    assert_shape(r.json(), "InvalidInput")
    assert "not valid JSON" in r.json()["detail"]
    assert "fields" not in r.json()


async def test_a_field_error_names_the_field_in_words(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"name": "web", "type": "tcp", "config": {"host": "h", "port": 70000}}
    r = await client.post("/api/v1/plugins", headers=admin, json=body)
    assert r.status_code == 422
    assert_shape(r.json(), "InvalidInput")
    assert r.json()["fields"] == {"config.port": "must be an integer between 1 and 65535"}


async def test_request_validation_uses_the_same_shape(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post("/api/v1/plugins", headers=admin, json={"type": "tcp"})
    assert r.status_code == 422
    assert_shape(r.json(), "InvalidInput")
    assert r.json()["fields"]["name"] == "is required"


async def test_timeout_over_interval_points_at_the_timeout(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {
        "name": "slow",
        "type": "tcp",
        "config": {"host": "h", "port": 1},
        "interval_seconds": 10,
        "timeout_seconds": 20,
    }
    r = await client.post("/api/v1/plugins", headers=admin, json=body)
    assert r.status_code == 422
    assert_shape(r.json(), "InvalidInput")
    assert set(r.json()["fields"]) == {"timeout_seconds"}
