"""Status pages: admins configure them; anyone reads a published one, its badges and its
widget summary, and nothing of a plugin's configuration ever reaches them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete

from app.models import MaintenanceWindow, PluginHealth, PluginRun, UptimeCursor
from app.services.status.public import page_state
from tests.conftest import add_plugin

# Values an admin would never want on a public page: every one is planted in a plugin.
SECRET_CONFIG = {
    "host": "nas-internal.lan",
    "url": "http://10.20.30.40:5000/admin",
    "username": "backup-operator",
    "port": 51234,
}
INTERNAL_NAME = "nas-internal-ping"
DOWN_FOR = timedelta(minutes=90)
ERROR_TEXT = "connection refused by 10.20.30.40"


async def _seed(app: Any) -> tuple[int, int]:
    """Two plugins with history: one healthy with checks, one down with an error text."""
    db = app.state.unity.db
    now = datetime.now(UTC)
    born = now - timedelta(hours=3)
    up = await add_plugin(db, INTERNAL_NAME, config=SECRET_CONFIG, type="http", created_at=born)
    down = await add_plugin(
        db, "router-snmp", config={"community": "s3cr3t-community"}, created_at=born
    )
    async with db.session() as s:
        await s.execute(delete(UptimeCursor))  # fold from the first run, whatever ran at start
        for minute in range(90, 0, -1):
            started = now - timedelta(minutes=minute)
            s.add(PluginRun(plugin_id=up, status="success", started_at=started, duration_ms=42.0))
            s.add(PluginRun(plugin_id=down, status="error", started_at=started, error=ERROR_TEXT))
        s.add(PluginHealth(plugin_id=up, status="healthy"))
        s.add(
            PluginHealth(
                plugin_id=down, status="down", last_error=ERROR_TEXT, changed_at=now - DOWN_FOR
            )
        )
        await s.commit()
    await app.state.unity.uptime.run()
    return up, down


def _page(up: int, down: int, **fields: Any) -> dict[str, Any]:
    return {
        "slug": "home",
        "title": "Home lab",
        "description": "What works at home.",
        "footer": "Run by the family admin.",
        "published": True,
        "groups": [
            {
                "name": "Storage",
                "items": [{"plugin_id": up, "name": "NAS", "show_response_time": True}],
            },
            {"name": "Network", "items": [{"plugin_id": down, "name": "Router"}]},
        ],
        "announcements": [{"title": "Router is being replaced", "body": "New one arrives Monday."}],
        **fields,
    }


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (key path, leaf value) of a JSON document, keys included as leaves."""
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.append((f"{path}.{k}", k))
            out += _walk(v, f"{path}.{k}")
        return out
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _walk(v, f"{path}[{i}]")]
    return [(path, value)]


async def test_pages_round_trip_and_refusals(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    up, down = await _seed(app)
    r = await client.post("/api/v1/status-pages", json=_page(up, down), headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    assert [i["key"] for g in made["groups"] for i in g["items"]] == ["nas", "router"]
    assert made["announcements"][0]["posted_at"].endswith("Z")

    assert (
        await client.post("/api/v1/status-pages", json=_page(up, down), headers=viewer)
    ).status_code == 403
    r = await client.post("/api/v1/status-pages", json=_page(up, down), headers=admin)
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    r = await client.post(
        "/api/v1/status-pages",
        json=_page(up, down, slug="other", groups=[{"items": [{"plugin_id": 999, "name": "X"}]}]),
        headers=admin,
    )
    assert r.status_code == 422 and "999" in r.json()["detail"]
    r = await client.post(
        "/api/v1/status-pages", json=_page(up, down, slug="Bad Slug"), headers=admin
    )
    assert r.status_code == 422 and "slug" in r.json()["fields"]
    twice = [
        {
            "items": [
                {"plugin_id": up, "name": "A", "key": "a"},
                {"plugin_id": down, "name": "B", "key": "a"},
            ]
        }
    ]
    r = await client.post(
        "/api/v1/status-pages", json=_page(up, down, slug="x", groups=twice), headers=admin
    )
    assert r.status_code == 422 and "key 'a'" in r.json()["detail"]

    listed = (await client.get("/api/v1/status-pages", headers=viewer)).json()
    assert [p["slug"] for p in listed] == ["home"]
    r = await client.patch(
        f"/api/v1/status-pages/{made['id']}", json={"published": False}, headers=admin
    )
    assert r.status_code == 200 and r.json()["published"] is False
    # Unpublished reads exactly like absent, to a visitor and to a badge.
    for path in ("/api/v1/public/status/home", "/api/v1/public/badge/home/nas/status"):
        r = await client.get(path)
        assert r.status_code == 404 and r.json()["detail"].startswith("There is no")
    r = await client.delete(f"/api/v1/status-pages/{made['id']}", headers=admin)
    assert r.status_code == 204
    assert (
        await client.get(f"/api/v1/status-pages/{made['id']}", headers=admin)
    ).status_code == 404


async def test_public_page_shows_states_uptime_and_notes_without_login(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    up, down = await _seed(app)
    async with app.state.unity.db.session() as s:
        now = datetime.now(UTC)
        s.add(
            MaintenanceWindow(
                name="Router swap",
                kind="once",
                starts_at=now + timedelta(days=1),
                ends_at=now + timedelta(days=1, hours=2),
                timezone="UTC",
                plugin_ids=[down],
            )
        )
        await s.commit()
    r = await client.post("/api/v1/status-pages", json=_page(up, down), headers=admin)
    assert r.status_code == 201, r.text

    r = await client.get("/api/v1/public/status/home")  # no Authorization header
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "public, max-age=30" and r.headers["etag"]
    page = r.json()
    assert page["status"] == "down" and page["title"] == "Home lab"
    nas, router = (g["monitors"][0] for g in page["groups"])
    assert (nas["name"], nas["status"], nas["response_ms"]) == ("NAS", "healthy", 42.0)
    assert (router["name"], router["status"], router["response_ms"]) == ("Router", "down", None)
    down_since = datetime.fromisoformat(router["since"])
    assert abs(datetime.now(UTC) - DOWN_FOR - down_since) < timedelta(minutes=5)
    assert nas["since"] is None  # never changed state: not known
    assert nas["uptime"]["24h"]["percent"] == 100.0 and nas["uptime"]["24h"]["up_s"] > 3600
    assert router["uptime"]["30d"]["percent"] == 0.0
    assert len(nas["days"]) == 90 and nas["days"][-1]["up_s"] > 0
    [window] = page["maintenance"]
    assert window["name"] == "Router swap" and window["monitors"] == ["Router"]
    assert window["active"] is False
    assert page["announcements"][0]["title"] == "Router is being replaced"

    again = await client.get(
        "/api/v1/public/status/home", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""

    r = await client.get("/api/v1/public/status/home/summary")
    assert r.status_code == 200
    summary = r.json()
    assert (summary["total"], summary["up"], summary["down"]) == (2, 1, 1)
    assert 40 < summary["uptime_24h"] < 60  # as long up as down, over both
    assert summary["monitors"][1] == {"name": "Router", "status": "down", "uptime_30d": 0.0}


async def test_no_public_answer_carries_anything_from_a_plugins_config(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    up, down = await _seed(app)
    r = await client.post("/api/v1/status-pages", json=_page(up, down), headers=admin)
    assert r.status_code == 201
    planted = {str(v) for v in SECRET_CONFIG.values()} | {
        "s3cr3t-community",
        INTERNAL_NAME,
        "router-snmp",
        ERROR_TEXT,
    }
    forbidden_keys = set(SECRET_CONFIG) | {
        "community",
        "id",
        "plugin_id",
        "config",
        "type",
        "error",
    }
    bodies = [
        (await client.get(path)).json()
        for path in ("/api/v1/public/status/home", "/api/v1/public/status/home/summary")
    ]
    leaves = [leaf for body in bodies for leaf in _walk(body)]
    assert len(leaves) > 100  # the walk really went through the pages
    for path, value in leaves:
        assert value not in forbidden_keys or not path.endswith(f".{value}"), path
        assert value not in ("http", "system"), path  # the plugins' types
        assert not any(bad in str(value) for bad in planted), (path, value)
    for kind in ("status", "uptime", "response"):
        svg = (await client.get(f"/api/v1/public/badge/home/nas/{kind}")).text
        assert not any(bad in svg for bad in planted), kind
    # Nothing else opens up without login.
    for path in ("/api/v1/status-pages", "/api/v1/plugins", f"/api/v1/plugins/{up}/uptime"):
        assert (await client.get(path)).status_code == 401


async def test_badges_are_svg_with_state_uptime_and_response_time(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    up, down = await _seed(app)
    r = await client.post("/api/v1/status-pages", json=_page(up, down), headers=admin)
    assert r.status_code == 201

    r = await client.get("/api/v1/public/badge/home/nas/status")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=60"
    assert r.text.startswith("<svg") and 'aria-label="NAS: up"' in r.text and "#4c1" in r.text
    r = await client.get("/api/v1/public/badge/home/router/status?label=gateway")
    assert 'aria-label="gateway: down"' in r.text and "#e05d44" in r.text

    r = await client.get("/api/v1/public/badge/home/nas/uptime?window=24h")
    assert 'aria-label="uptime 24h: 100%"' in r.text
    r = await client.get("/api/v1/public/badge/home/router/uptime")
    assert 'aria-label="uptime 30d: 0%"' in r.text
    r = await client.get("/api/v1/public/badge/home/nas/uptime?window=2w")
    assert r.status_code == 422

    r = await client.get("/api/v1/public/badge/home/nas/response")
    assert r.status_code == 200 and 'aria-label="response: 42 ms"' in r.text
    etag = r.headers["etag"]
    again = await client.get(
        "/api/v1/public/badge/home/nas/response", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    # The router's response time is not on the page, so it has no badge either.
    assert (await client.get("/api/v1/public/badge/home/router/response")).status_code == 404
    assert (await client.get("/api/v1/public/badge/home/nope/status")).status_code == 404

    # A badge switched off answers like a missing one.
    page_id = (await client.get("/api/v1/status-pages", headers=admin)).json()[0]["id"]
    groups = [{"items": [{"plugin_id": up, "name": "NAS", "badge": False}]}]
    r = await client.patch(
        f"/api/v1/status-pages/{page_id}", json={"groups": groups}, headers=admin
    )
    assert r.status_code == 200
    assert (await client.get("/api/v1/public/badge/home/nas/status")).status_code == 404


def test_the_page_state_is_its_worst_monitors_and_no_data_counts_only_alone() -> None:
    assert page_state(["healthy", "down", "maintenance"]) == "down"
    assert page_state(["healthy", "maintenance"]) == "maintenance"
    assert page_state(["healthy", "unknown"]) == "operational"
    assert page_state(["unknown", "unknown"]) == "unknown"
    assert page_state([]) == "unknown"
