"""Every route in the OpenAPI schema needs a token, and every write needs an admin.

The routes are read from `app.openapi()`, never listed by hand, so a route added later (alerts,
metrics export, ...) is checked the moment it exists. Requests carry a minimal body built from
the schema itself, so a refusal is the auth check's doing, not the validator's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from app.main import create_app
from tests.conftest import make_settings

# The only operations anyone may call without a token: health, login and first-run setup.
PUBLIC = {
    ("GET", "/health"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/session"),
    ("GET", "/api/v1/auth/setup"),
    ("POST", "/api/v1/auth/setup"),
    # Push monitors' calls: the secret token in the path is the credential (token-scoped).
    ("GET", "/api/v1/push/{token}"),
    ("POST", "/api/v1/push/{token}"),
    # Published status pages, their widget summary and badges (leak-proof public schemas).
    ("GET", "/api/v1/public/status/{slug}"),
    ("GET", "/api/v1/public/status/{slug}/summary"),
    ("GET", "/api/v1/public/badge/{slug}/{key}/status"),
    ("GET", "/api/v1/public/badge/{slug}/{key}/uptime"),
    ("GET", "/api/v1/public/badge/{slug}/{key}/response"),
    # A page's logo, a visitor's password for a protected page (its own cookie, no account), and
    # the framing policy nginx reads for the SPA's HTML.
    ("GET", "/api/v1/public/status/{slug}/logo"),
    ("POST", "/api/v1/public/status/{slug}/unlock"),
    ("GET", "/api/v1/public/frame-policy"),
    # Single sign-on: whether it is offered, and the two legs of the browser's round trip.
    ("GET", "/api/v1/auth/oidc"),
    ("GET", "/api/v1/auth/oidc/login"),
    ("GET", "/api/v1/auth/oidc/callback"),
    # Forward auth: the trusted proxy's header is the credential.
    ("POST", "/api/v1/auth/forward"),
}
# Writes any signed-in user makes on their own account, so viewers may call them too.
SELF_SERVICE = {
    ("POST", "/api/v1/auth/password"),
    ("DELETE", "/api/v1/auth/session"),
    ("DELETE", "/api/v1/auth/sessions/{session_id}"),
    ("POST", "/api/v1/auth/totp/enrol"),
    ("POST", "/api/v1/auth/totp/confirm"),
    ("POST", "/api/v1/auth/totp/recovery-codes"),
    ("POST", "/api/v1/auth/totp/disable"),
}
# Reads that only admins may make.
ADMIN_READS = {
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/plugins/{plugin_id}/push-token"),
    ("GET", "/api/v1/config/export"),
    ("GET", "/api/v1/audit"),  # who changed what, with the diffs
}
# Reads only a remote probe's token may make (users, admins too, get 403).
PROBE_ONLY = {("GET", "/api/v1/probes/assignments")}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Who may call what does not depend on the database: SQLite only, to stay quick."""
    return f"sqlite:///{tmp_path / 'homelab.db'}"


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def example(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A small value that satisfies `schema` (required fields only)."""
    schema = _resolve(schema, spec)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, spec).get("type") != "null"]
            return example((options or schema[key])[0], spec)
    if "allOf" in schema:
        return example(schema["allOf"][0], spec)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: example(props.get(k, {}), spec) for k in schema.get("required", [])}
    if kind == "array":
        return [example(schema.get("items", {}), spec)] * max(1, schema.get("minItems", 0))
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2024-01-01T00:00:00Z"
        return "x" * max(8, schema.get("minLength", 0))
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return None


def operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    ops = [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    # A vacuous walk would pass too: make sure it sees the routes we know exist.
    seen = {(m, p) for m, p, _ in ops}
    assert seen >= PUBLIC | SELF_SERVICE | ADMIN_READS
    assert seen >= {("GET", "/api/v1/plugins"), ("DELETE", "/api/v1/users/{user_id}")}
    return ops


def request_for(app: Any, method: str, path: str, op: dict[str, Any]) -> dict[str, Any]:
    """httpx.request kwargs: path params = 1, required query params and body from the schema."""
    spec = app.openapi()
    url = path
    params: dict[str, Any] = {}
    for param in op.get("parameters", []):
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", "1")
        elif param["in"] == "query" and param.get("required"):
            params[param["name"]] = example(param.get("schema", {}), spec)
    kwargs: dict[str, Any] = {"method": method, "url": url, "params": params}
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        kwargs["json"] = example(content["application/json"]["schema"], spec)
    elif "application/x-www-form-urlencoded" in content:
        form = example(content["application/x-www-form-urlencoded"]["schema"], spec)
        kwargs["data"] = {k: str(v) for k, v in form.items()}
    return kwargs


def _ids(ops: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [f"{m} {p}" for m, p, _ in ops]


async def test_every_non_public_operation_answers_401_without_a_valid_token(
    app: Any, client: httpx.AsyncClient
) -> None:
    checked = []
    for method, path, op in operations(app):
        if (method, path) in PUBLIC:
            continue
        kwargs = request_for(app, method, path, op)
        for headers in (
            {},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": "Basic eA=="},
        ):
            r = await client.request(**kwargs, headers=headers)
            assert r.status_code == 401, f"{method} {path} with {headers or 'no token'}: {r.text}"
            body = r.json()
            assert body["error"] == "Unauthorized" and body["detail"], f"{method} {path}: {body}"
            assert r.headers.get("www-authenticate") == "Bearer"
        checked.append((method, path))
    assert len(checked) >= 10


async def test_the_public_operations_answer_without_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).status_code == 200
    status = {"needs_setup": True, "needs_code": False}
    assert (await client.get("/api/v1/auth/setup")).json() == status
    for path in ("/api/v1/auth/login", "/api/v1/auth/session"):
        r = await client.post(path, data={"username": "nobody", "password": "x" * 8})
        assert r.status_code == 401 and r.json()["detail"] == "Wrong username or password."
    r = await client.post("/api/v1/auth/setup", json={"username": "first", "password": "x" * 8})
    assert r.status_code == 201


async def test_a_viewer_gets_403_on_every_write_operation(
    app: Any, client: httpx.AsyncClient, viewer: dict[str, str]
) -> None:
    writes = [
        (m, p, op)
        for m, p, op in operations(app)
        if m in WRITES and (m, p) not in PUBLIC | SELF_SERVICE
    ]
    assert len(writes) >= 8, _ids(writes)
    for method, path, op in writes:
        r = await client.request(**request_for(app, method, path, op), headers=viewer)
        assert r.status_code == 403, f"{method} {path} as viewer: {r.status_code} {r.text}"
        assert r.json()["error"] == "Forbidden" and "admin" in r.json()["detail"]


async def test_a_viewer_reads_everything_but_the_admin_only_reads(
    app: Any, client: httpx.AsyncClient, viewer: dict[str, str]
) -> None:
    for method, path, op in operations(app):
        if method != "GET" or (method, path) in PUBLIC:
            continue
        r = await client.request(**request_for(app, method, path, op), headers=viewer)
        if (method, path) in ADMIN_READS | PROBE_ONLY:
            assert r.status_code == 403, f"{method} {path} as viewer: {r.text}"
        else:
            # 404 is fine: path ids are 1 and nothing exists yet; the point is "not refused".
            assert r.status_code in (200, 404), (
                f"{method} {path} as viewer answered {r.status_code}: {r.text}; if only admins "
                "may read it, add it to ADMIN_READS"
            )


def test_the_schema_documents_401_and_403_where_they_can_happen(app: Any) -> None:
    for method, path, op in operations(app):
        if (method, path) in PUBLIC:
            continue
        codes = set(op.get("responses", {}))
        assert "401" in codes, f"{method} {path}: add responses=responses(*AUTH) (or *ADMIN)"
        admin_only = method in WRITES and (method, path) not in SELF_SERVICE
        if admin_only or (method, path) in ADMIN_READS | PROBE_ONLY:
            assert "403" in codes, f"{method} {path}: add responses=responses(*ADMIN)"


def test_no_http_route_hides_from_the_schema(tmp_path: Path) -> None:
    """A route left out of the schema would escape the walks above, so none may be."""
    # with a built SPA present, its catch-all is the one (deliberately public) exception
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html>")
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, frontend_dist=dist))
    hidden = [
        f"{sorted(r.methods)} {r.path}"
        for r in app.routes
        if isinstance(r, APIRoute) and not r.include_in_schema and r.path != "/{path:path}"
    ]
    assert hidden == [], "routes missing from the OpenAPI schema: " + ", ".join(hidden)
