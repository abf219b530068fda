"""Configuration as code: export is stable and secret-free, apply is a diff applied atomically."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.errors import InvalidInput
from app.main import create_app
from app.models import (
    AlertRule,
    AlertSilence,
    MaintenanceWindow,
    NotificationChannel,
    PluginInstance,
)
from app.services.config.apply import ApplyResult, apply_config
from app.services.config.export import export_config
from app.services.config.yamlfile import ConfigFileError
from app.state import AppState
from tests.conftest import fresh_pg_database, make_settings
from tests.services.config_helpers import CHANNEL_URL, HTTP_PASSWORD, SECRETS, build


def state_of(app: Any) -> AppState:
    s: AppState = app.state.unity
    return s


async def export(state: AppState, include_secrets: bool = False) -> str:
    async with state.db.session() as session:
        return await export_config(
            session, state.box, state.registry, include_secrets=include_secrets
        )


async def apply(
    state: AppState, text: str, env: dict[str, str] | None = None, **kw: Any
) -> ApplyResult:
    async with state.db.session() as session:
        return await apply_config(session, state.box, state.registry, text, env or {}, **kw)


@pytest.fixture
def empty_url(settings: Settings, tmp_path: Path) -> Iterator[str]:
    if settings.is_sqlite:
        yield f"sqlite:///{tmp_path / 'second.db'}"
    else:
        with fresh_pg_database() as url:
            yield url


@pytest.fixture
async def empty(empty_url: str, tmp_path: Path) -> AsyncIterator[AppState]:
    """A second instance on an empty database of the same kind, same encryption key."""
    second = create_app(make_settings(empty_url, tmp_path / "second"))
    async with second.router.lifespan_context(second):
        yield state_of(second)


def env_refs(text: str) -> dict[str, str]:
    """The environment a secret-free export needs, read from an export with secrets."""
    import yaml

    return dict(yaml.safe_load(text)["env"])


async def counts(state: AppState) -> tuple[int, ...]:
    async with state.db.session() as s:
        out = []
        kinds = (PluginInstance, NotificationChannel, AlertRule, AlertSilence, MaintenanceWindow)
        for model in kinds:
            out.append(int(await s.scalar(select(func.count()).select_from(model)) or 0))
        return tuple(out)


async def test_round_trip_to_an_empty_instance_reproduces_the_export(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], empty: AppState
) -> None:
    await build(client, admin)
    source = state_of(app)
    text = await export(source)
    for secret in SECRETS:
        assert secret not in text
    assert "${UNITY_PLUGIN_HOME_PAGE_BASIC_AUTH_PASSWORD}" in text
    assert "${UNITY_CHANNEL_PHONE_URL}" in text
    assert "$${not-a-ref}" not in text  # not a valid name: left alone
    assert "over: not exported" not in text and "last week" not in text
    assert "    plugins:\n      - Home page\n      - port 22\n" in text  # by name, not id
    assert "plugin: port 22" in text and "key: ssh" in text  # status pages name plugins by name
    assert "Posted in the UI" not in text  # announcements are not configuration
    assert "depends_on:\n      - port 22" in text
    env = env_refs(await export(source, include_secrets=True))
    assert env["UNITY_CHANNEL_PHONE_URL"] == CHANNEL_URL

    dry = await apply(empty, text, env)
    assert [(c.action, c.section) for c in dry.changes].count(("add", "plugins")) == 3
    assert not dry.applied and await counts(empty) == (0, 0, 0, 0, 0)

    done = await apply(empty, text, env, dry_run=False)
    assert done.applied and len(done.changes) == 3 + 2 + 2 + 1 + 3 + 1
    assert await export(empty) == text
    assert await export(empty, include_secrets=True) == await export(source, include_secrets=True)

    again = await apply(empty, text, env, dry_run=False)  # idempotent
    assert again.changes == [] and again.lines()[0] == "no changes"
    assert again.unchanged == 12


async def test_export_with_secrets_applies_on_its_own(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], empty: AppState
) -> None:
    await build(client, admin)
    text = await export(state_of(app), include_secrets=True)
    assert HTTP_PASSWORD in text and "keep it private" in text
    await apply(empty, text, dry_run=False)
    assert await export(empty, include_secrets=True) == text
    # the running instance uses the secret it was given
    async with empty.db.session() as s:
        plugin = await s.scalar(select(PluginInstance).where(PluginInstance.name == "Home page"))
        assert plugin is not None and plugin.secrets
        assert empty.box.decrypt(plugin.secrets)["basic_auth_password"] == HTTP_PASSWORD


async def test_an_export_applied_where_it_came_from_keeps_its_stored_secrets(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await build(client, admin)
    state = state_of(app)
    text = await export(state)
    assert (await apply(state, text, {})).lines()[0] == "no changes"
    await apply(state, text.replace("interval_seconds: 30", "interval_seconds: 45"), dry_run=False)
    assert "interval_seconds: 45" in await export(state)
    assert HTTP_PASSWORD in await export(state, include_secrets=True)
    # A stored secret goes back only where it came from: not to another object or field.
    phone = "${UNITY_CHANNEL_PHONE_URL}"
    for moved in (
        text.replace("${UNITY_CHANNEL_MAIL_URL}", phone),
        text.replace("basic_auth_username: me", f"basic_auth_username: {phone}"),
    ):
        assert moved != text
        with pytest.raises(ConfigFileError) as err:
            await apply(state, moved, {})
        assert "UNITY_CHANNEL_PHONE_URL is not set" in err.value.detail
        assert "only kept for channel 'Phone''s url" in err.value.detail
        assert CHANNEL_URL not in err.value.detail


async def test_a_missing_environment_variable_is_named(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], empty: AppState
) -> None:
    await build(client, admin)
    text = await export(state_of(app))
    with pytest.raises(ConfigFileError) as err:
        await apply(empty, text, {})
    assert "UNITY_PLUGIN_HOME_PAGE_BASIC_AUTH_PASSWORD is not set" in err.value.detail
    assert any(
        line.startswith("line ")
        and "channels[1].url: the environment variable UNITY_CHANNEL_PHONE_URL is not set" in line
        for line in err.value.lines()
    ), err.value.lines()


async def test_changes_are_listed_by_field_and_secrets_never_shown(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await build(client, admin)
    state = state_of(app)
    env = env_refs(await export(state, include_secrets=True))
    text = await export(state)
    edited = text.replace("interval_seconds: 30", "interval_seconds: 45").replace(
        "comment: moving the NAS", "comment: moving the NAS again"
    )
    env2 = {**env, "UNITY_PLUGIN_HOME_PAGE_BASIC_AUTH_PASSWORD": "new-secret-value"}
    result = await apply(state, edited, env2)
    lines = "\n".join(result.lines())
    assert (
        "~ plugin 'Home page': interval_seconds: 30 -> 45, config.basic_auth_password "
        "(secret, changed)" in lines
    )
    assert 'comment: "moving the NAS" -> "moving the NAS again"' in lines
    assert "dry run: nothing was changed" in lines
    for secret in (*SECRETS, "new-secret-value"):
        assert secret not in lines
    assert await export(state) == text  # the dry run changed nothing

    await apply(state, edited, env2, dry_run=False)
    assert "interval_seconds: 45" in await export(state)
    assert "new-secret-value" in await export(state, include_secrets=True)


async def test_prune_removes_what_the_file_leaves_out_and_only_in_listed_sections(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await build(client, admin)
    state = state_of(app)
    text = "plugins:\n  - name: port 22\n    type: tcp\n    config: {host: 127.0.0.1, port: 22}\n"
    kept = await apply(state, text)
    assert kept.changes == [] and kept.kept == 11
    assert "--prune removes them" in "\n".join(kept.lines())

    pruned = await apply(state, text, prune=True, dry_run=False)
    removed = {(c.section, c.key, c.reason) for c in pruned.changes if c.action == "remove"}
    # the rule and silence on "Home page" go with it, and say why; channels were not listed
    assert ("plugins", "Home page", None) in removed
    assert ("alert_rules", "Slow home page", "its plugin 'Home page' is removed") in removed
    assert any(c[0] == "silences" for c in removed)
    # a window for that plugin alone goes too; one that also covers "port 22" stays
    gone = ("maintenance_windows", "Monthly patching", "its plugin 'Home page' is removed")
    assert gone in removed
    assert await counts(state) == (1, 2, 1, 1, 3)  # the ended silence and window are history
    assert "name: Phone" in await export(state)

    emptied = await apply(state, "channels: []\n", prune=True, dry_run=False)
    assert {c.key for c in emptied.changes} == {"Phone", "Mail"}
    assert await counts(state) == (1, 0, 1, 1, 3)


BAD = """\
version: 1
plugins:
  - name: web
    type: http
    interval_seconds: often
    config:
      url: http://127.0.0.1:9/
      colour: blue
alert_rules:
  - name: r
    metric: cpu
    plugin: nowhere
    severty: high
"""


async def test_errors_name_line_column_and_path(app: Any) -> None:
    state = state_of(app)
    with pytest.raises(ConfigFileError) as err:
        await apply(state, BAD)
    lines = err.value.lines()
    assert "line 5, column 5: plugins[0].interval_seconds: must be an integer" in lines
    assert any(
        line.startswith("line 13, column 5: alert_rules[0].severty: is not a known field")
        and "severity" in line
        for line in lines
    ), lines
    assert err.value.detail.startswith("The configuration file is not valid: line 5, column 5")

    fixed = BAD.replace("often", "60").replace("    severty: high\n", "")
    with pytest.raises(ConfigFileError) as err:
        await apply(state, fixed)
    lines = err.value.lines()
    assert any(
        line.startswith("line 8, column 7: plugins[0].config.colour: is not a known")
        for line in lines
    ), lines
    with pytest.raises(ConfigFileError) as err:
        await apply(state, fixed.replace("      colour: blue\n", ""))
    assert err.value.lines() == [
        "line 11, column 5: alert_rules[0].plugin: names the plugin 'nowhere', but there is "
        "none in this file or in the database"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plugins: [\n", "line 2, column 1: not valid YAML"),
        ("- a\n- b\n", "line 1, column 1: the file must be a mapping"),
        ("version: 2\n", "line 1, column 1: version: must be one of 1"),
        ("plugins:\n  - name: a\n    name: b\n", "line 3, column 5: plugins[0].name: this key"),
        ("bogus: 1\n", "line 1, column 1: bogus: is not a known field"),
        ("x-a: " + "[" * 5000 + "]" * 5000, "YAML: the file nests lists or mappings too deeply"),
        ("x-a: &x [1, *x]\n", "line 1, column 6: x-a[1]: this anchored value contains an alias"),
        (
            "plugins:\n  - {name: a, type: tcp, config: {host: h, port: 1}}\n"
            "  - {name: a, type: tcp, config: {host: h, port: 2}}\n",
            "line 3, column 6: plugins[1].name: another plugin here is also 'a'",
        ),
        (
            "plugins:\n  - name: a\n    type: tcp\n    timeout_seconds: 5\n"
            "    config: {host: h, port: 1, timeout_seconds: 30}\n",
            "line 5, column 32: plugins[0].config.timeout_seconds: is 30 s, longer than the "
            "run's timeout_seconds (5 s)",
        ),
    ],
)
async def test_malformed_files_are_refused_with_a_place(app: Any, text: str, expected: str) -> None:
    with pytest.raises(ConfigFileError) as err:
        await apply(state_of(app), text)
    assert err.value.lines()[0].startswith(expected), err.value.lines()


async def test_a_plugin_type_cannot_change_in_place(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await build(client, admin)
    text = "plugins:\n  - name: port 22\n    type: ping\n    config: {host: 127.0.0.1}\n"
    with pytest.raises(ConfigFileError) as err:
        await apply(state_of(app), text)
    assert (
        "line 3, column 5: plugins[0].type: the database's plugin 'port 22' is of type 'tcp'"
        in err.value.lines()[0]
    )


async def test_anchors_under_x_keys_share_settings(app: Any) -> None:
    text = (
        "x-tcp: &tcp {type: tcp, interval_seconds: 20, config: {host: 127.0.0.1, port: 9}}\n"
        "plugins:\n  - {<<: *tcp, name: a}\n  - {<<: *tcp, name: b, enabled: false}\n"
    )
    result = await apply(state_of(app), text, dry_run=False)
    assert [c.key for c in result.changes] == ["a", "b"]
    exported = await export(state_of(app))
    assert exported.count("interval_seconds: 20") == 2 and "enabled: false" in exported


async def test_a_discovered_plugin_exports_without_its_marker_and_keeps_it_on_apply(
    app: Any,
) -> None:
    state = state_of(app)
    found = {"by": 1, "container": "web", "labels": {"unity.tcp.port": "port"}}
    async with state.db.session() as s:
        s.add(
            PluginInstance(
                name="web port",
                type="tcp",
                config={"host": "h", "port": 80, "timeout_seconds": 5.0, "_discovered": found},
                interval_seconds=60,
                timeout_seconds=10,
                enabled=True,
            )
        )
        await s.commit()
    text = await export(state)
    assert "_discovered" not in text and "name: web port" in text
    again = await apply(state, text, dry_run=False)
    assert again.changes == [] and again.unchanged == 1

    changed = await apply(state, text.replace("port: 80", "port: 81"), dry_run=False)
    assert [c.key for c in changed.changes] == ["web port"]
    async with state.db.session() as s:
        plugin = await s.scalar(select(PluginInstance).where(PluginInstance.name == "web port"))
        assert plugin is not None
        assert plugin.config == {
            "host": "h",
            "port": 81,
            "timeout_seconds": 5.0,
            "_discovered": found,
        }


WINDOW = """\
plugins:
  - {name: a, type: tcp, config: {host: 127.0.0.1, port: 9}}
maintenance_windows:
  - name: nightly
    kind: cron
    cron: "30 2 * * *"
    duration_seconds: 1800
    plugins: [a]
"""


async def test_a_window_without_starts_at_keeps_its_start_and_bad_ones_are_placed(
    app: Any,
) -> None:
    state = state_of(app)
    first = await apply(state, WINDOW, dry_run=False)
    assert [c.key for c in first.changes] == ["a", "nightly"]
    again = await apply(state, WINDOW, dry_run=False)  # "now" is not a change the second time
    assert again.changes == [] and again.unchanged == 2
    exported = await export(state)
    assert "cron: 30 2 * * *" in exported and "weekdays" not in exported

    with pytest.raises(ConfigFileError) as err:
        await apply(state, WINDOW.replace("    duration_seconds: 1800\n", ""))
    assert err.value.lines()[0].startswith(
        "line 4, column 5: maintenance_windows[0].duration_seconds: required for weekly and cron"
    ), err.value.lines()
    with pytest.raises(ConfigFileError) as err:
        await apply(state, WINDOW.replace("plugins: [a]", "plugins: [b]"))
    assert err.value.lines()[0].startswith(
        "line 8, column 15: maintenance_windows[0].plugins[0]: names the plugin 'b'"
    ), err.value.lines()


async def test_depends_on_names_plugins_turns_around_and_refuses_loops(app: Any) -> None:
    state = state_of(app)
    tcp = "type: tcp, config: {host: 127.0.0.1, port: 9}"
    text = (
        f"plugins:\n  - {{name: nas, {tcp}, depends_on: [router]}}\n  - {{name: router, {tcp}}}\n"
    )
    await apply(state, text, dry_run=False)
    assert "depends_on:\n      - router" in await export(state)

    turned = f"plugins:\n  - {{name: nas, {tcp}}}\n  - {{name: router, {tcp}, depends_on: [nas]}}\n"
    result = await apply(state, turned, dry_run=False)
    assert {c.key for c in result.changes} == {"nas", "router"}
    exported = await export(state)
    assert "depends_on:\n      - nas" in exported and "- router" not in exported

    loop = (
        f"plugins:\n  - {{name: nas, {tcp}, depends_on: [router]}}\n"
        f"  - {{name: router, {tcp}, depends_on: [nas]}}\n"
    )
    with pytest.raises(InvalidInput, match=r"loop: (nas → router → nas|router → nas → router)"):
        await apply(state, loop, dry_run=False)
    assert await export(state) == exported  # all or nothing

    with pytest.raises(ConfigFileError) as err:
        await apply(state, f"plugins:\n  - {{name: nas, {tcp}, depends_on: [switch]}}\n")
    assert "plugins[0].depends_on[0]: names the plugin 'switch'" in err.value.lines()[0]
