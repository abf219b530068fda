"""Checks found by label, end to end: a real dockerd (the `docker_engine` fixture), containers
created with `unity.*` labels, the docker plugin run through the API, and the http/tcp
instances it creates, updates, protects from edits and retires."""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import select

from app.models import PluginInstance
from app.services.plugins import dependencies
from app.services.plugins.discovery import FoundContainer, reconcile, specs_for
from tests.conftest import add_plugin


def create(engine, name: str, *labels: str) -> None:
    args = [a for label in labels for a in ("--label", label)]
    engine.cli("create", "--network", "none", "--name", name, *args, engine.image, "true")


async def run_docker(client: httpx.AsyncClient, admin: dict[str, str], plugin_id: int) -> None:
    r = await client.post(f"/api/v1/plugins/{plugin_id}/run", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "success", r.json()


async def discovered(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, dict]:
    r = await client.get("/api/v1/plugins", headers=admin)
    assert r.status_code == 200
    return {p["name"]: p for p in r.json() if p["discovered"]}


async def test_labelled_containers_become_checks(client, admin, docker_engine) -> None:
    d = docker_engine
    create(d, "disc-web", "unity.http.url=http://127.0.0.1:8080/", "unity.interval=30")
    create(d, "disc-db", "unity.tcp.port=5432", "unity.tcp.host=127.0.0.1", "unity.name=pg")
    create(d, "disc-plain")
    create(d, "disc-broken", "unity.tcp.port=not-a-port")
    try:
        body = {
            "name": "engine",
            "type": "docker",
            "config": {"url": d.url, "discover_labels": True},
        }
        r = await client.post("/api/v1/plugins", json=body, headers=admin)
        assert r.status_code == 201, r.text
        source = r.json()
        assert source["discovered"] is None
        await run_docker(client, admin, source["id"])

        found = await discovered(client, admin)
        assert set(found) == {"disc-web http", "pg tcp"}  # no labels, bad label: no check
        web = found["disc-web http"]
        assert web["type"] == "http" and web["config"]["url"] == "http://127.0.0.1:8080/"
        assert web["interval_seconds"] == 30
        assert web["discovered"] == {
            "by_plugin_id": source["id"],
            "container": "disc-web",
            "labels": {"url": "unity.http.url", "interval_seconds": "unity.interval"},
        }
        assert "_discovered" not in web["config"]
        tcp = found["pg tcp"]
        assert (tcp["config"]["host"], tcp["config"]["port"]) == ("127.0.0.1", 5432)

        # A field a label sets is the label's: the API says where to change it.
        url = f"/api/v1/plugins/{web['id']}"
        changed = {**web["config"], "url": "http://127.0.0.1:9999/"}
        r = await client.patch(url, json={"config": changed}, headers=admin)
        assert r.status_code == 422
        said = r.json()["fields"]["config.url"]
        assert said == "is set by the label unity.http.url on container disc-web; edit the label"
        assert "editing the container's labels" in r.json()["detail"]
        r = await client.patch(url, json={"interval_seconds": 60}, headers=admin)
        assert r.status_code == 422 and "interval_seconds" in r.json()["fields"]
        # Other fields stay editable, and the instance stays discovered.
        kept = {**web["config"], "keyword": "Welcome"}
        r = await client.patch(url, json={"config": kept, "enabled": False}, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json()["config"]["keyword"] == "Welcome" and r.json()["discovered"]

        # Labels changed (container recreated) and a container removed: update and retire.
        d.cli("rm", "disc-web")
        create(d, "disc-web", "unity.http.url=http://127.0.0.1:8081/health")
        d.cli("rm", "disc-db")
        await run_docker(client, admin, source["id"])
        found = await discovered(client, admin)
        assert set(found) == {"disc-web http"}
        again = found["disc-web http"]
        assert again["id"] == web["id"]
        assert again["config"]["url"] == "http://127.0.0.1:8081/health"
        assert again["interval_seconds"] == 60  # unity.interval is gone: the type's default
        assert again["config"]["keyword"] == "Welcome"  # the user's own edit survives
        assert again["enabled"] is False
        assert (await client.get(f"/api/v1/plugins/{tcp['id']}", headers=admin)).status_code == 404

        # Without the docker instance the check is the user's: kept, unmarked, editable.
        r = await client.delete(f"/api/v1/plugins/{source['id']}", headers=admin)
        assert r.status_code == 204
        assert not await discovered(client, admin)
        r = await client.patch(url, json={"interval_seconds": 120}, headers=admin)
        assert r.status_code == 200 and r.json()["discovered"] is None
    finally:
        d.cli("rm", "-f", "disc-web", "disc-db", "disc-plain", "disc-broken", check=False)


def test_bad_labels_are_reported_not_fatal() -> None:
    errors: list[str] = []
    found = FoundContainer("abc", "nas", {"unity.interval": "often", "unity.tcp.port": "22"})
    [spec] = specs_for(found, errors)
    assert spec.interval is None and spec.config == {"port": "22", "host": "nas"}
    assert errors == [
        "container nas: unity.interval='often' must be a number of seconds between 5 and "
        "86400; the default interval is used"
    ]


async def test_the_depends_on_label_sets_the_parents_of_a_containers_checks(app) -> None:
    """Reconcile with the containers a docker run reports (no dockerd needed for the links)."""
    state = app.state.unity
    source = await add_plugin(state.db, "engine", type="docker", config={})
    router = await add_plugin(state.db, "router", type="ping", config={"host": "10.0.0.1"})
    labels = {"unity.tcp.port": "5432", "unity.depends_on": "router, nowhere"}
    found = [FoundContainer("c1", "db", labels, "10.0.0.5")]

    async def sync(containers: list[FoundContainer]) -> tuple[list[str], list[int]]:
        async with state.db.session() as s:
            outcome = await reconcile(s, state.registry, state.box, source, containers)
            check = await s.scalar(select(PluginInstance).where(PluginInstance.name == "db tcp"))
            assert check is not None
            return outcome.errors, await dependencies.parents_of(s, check.id)

    errors, parents = await sync(found)
    assert parents == [router]
    assert errors == [
        "container db: unity.depends_on names 'nowhere', which is no plugin; "
        "that parent is left out"
    ]
    # The label gone (container recreated without it): the parents are the user's again.
    kept = [FoundContainer("c1", "db", {"unity.tcp.port": "5432"}, "10.0.0.5")]
    errors, parents = await sync(kept)
    assert errors == [] and parents == [router]
    # The label emptied: no parents.
    errors, parents = await sync([FoundContainer("c1", "db", {**labels, "unity.depends_on": ""})])
    assert parents == []


def test_secret_labels_are_refused_with_where_the_secret_belongs() -> None:
    # Labels are readable by anyone who can `docker inspect` and would be stored unencrypted:
    # a credential in one makes no check field, and the log says where it belongs instead.
    errors: list[str] = []
    labels = {
        "unity.http.url": "http://jellyfin:8096/health",
        "unity.http.basic_auth_password": "hunter2",
        "unity.http.bearer_token": "abc",
        "unity.http.ulr": "http://typo/",
        "unity.http.keywords": "Healthy",  # a typo, not a key
        "com.example.other": "not ours",
    }
    [spec] = specs_for(FoundContainer("c1", "jellyfin", labels), errors)
    assert spec.config == {"url": "http://jellyfin:8096/health"}
    assert "hunter2" not in repr(spec) and not any("hunter2" in e for e in errors)
    where = "set it on the check in the UI or in the config file, where it is stored encrypted"
    assert [e for e in errors if "basic_auth_password" in e] == [
        "container jellyfin: label unity.http.basic_auth_password is ignored: secrets are not "
        "read from labels (anyone who can `docker inspect` the container sees them); " + where
    ]
    assert any("unity.http.bearer_token is ignored: secrets" in e for e in errors)
    typos = [e for e in errors if "ulr" in e or "keywords" in e]
    assert len(typos) == 2 and all("is not one Unity reads" in e for e in typos)
    assert "unity.http.url" in typos[0]
    assert len(errors) == 4  # other tools' labels are not ours to judge


def test_a_password_in_the_url_label_makes_no_check() -> None:
    errors: list[str] = []
    labels = {"unity.http.url": "http://admin:hunter2@nas:5000/", "unity.tcp.port": "5000"}
    specs = specs_for(FoundContainer("c1", "nas", labels), errors)
    assert [s.type for s in specs] == ["tcp"]
    assert errors == [
        "container nas: unity.http.url holds a password (user:password@host), so no http check "
        "is made from it: secrets are not read from labels (anyone who can `docker inspect` the "
        "container sees them); set it on the check in the UI or in the config file, where it is "
        "stored encrypted (basic_auth_password)"
    ]


async def test_credentials_set_on_a_discovered_check_survive_label_changes(
    app, client, admin
) -> None:
    """Where the refused label's secret goes instead: the check's own (encrypted) fields."""
    state = app.state.unity
    source = await add_plugin(state.db, "engine", type="docker", config={})

    async def sync(url: str) -> dict:
        found = [FoundContainer("c1", "web", {"unity.http.url": url})]
        async with state.db.session() as s:
            outcome = await reconcile(s, state.registry, state.box, source, found)
        assert outcome.errors == []
        [check] = (await discovered(client, admin)).values()
        return check

    check = await sync("http://127.0.0.1:8080/")
    config = {**check["config"], "basic_auth_username": "admin", "basic_auth_password": "hunter2"}
    body = {"config": config}  # a PATCH's config is the whole config
    r = await client.patch(f"/api/v1/plugins/{check['id']}", json=body, headers=admin)
    assert r.status_code == 200, r.text
    check = await sync("http://127.0.0.1:8081/")  # the container recreated with a new URL
    assert check["config"]["url"] == "http://127.0.0.1:8081/"
    assert check["config"]["basic_auth_username"] == "admin"
    assert check["config"]["basic_auth_password"] == "********"  # kept, encrypted, masked
    async with state.db.session() as s:
        row = await s.get(PluginInstance, check["id"])
        assert row is not None and row.secrets and "hunter2" not in row.secrets


async def test_a_refused_label_is_logged_when_it_appears_not_every_run(app) -> None:
    state = app.state.unity
    source = await add_plugin(state.db, "engine", type="docker", config={})
    labels = {"unity.tcp.port": "22", "unity.tcp.password": "hunter2"}
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("app.services.plugins.discovery")
    logger.addHandler(handler)
    logged: dict[int, frozenset[str]] = {}  # what the scheduler keeps between runs
    try:
        for _ in range(3):
            async with state.db.session() as s:
                found = [FoundContainer("c1", "nas", labels, "10.0.0.9")]
                outcome = await reconcile(
                    s, state.registry, state.box, source, found, logged=logged
                )
            assert len(outcome.errors) == 1  # still refused each run
    finally:
        logger.removeHandler(handler)
    said = [r.getMessage() for r in records]
    assert len(said) == 1 and "unity.tcp.password is ignored: secrets" in said[0], said
    assert "hunter2" not in said[0]
