"""docs/RUN4_API_LAYER.md: every route is documented, and every example still answers as shown."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from app.main import create_app
from tests.conftest import make_settings, skip_or_fail
from tests.live import Backend

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("api_doc", ROOT / "scripts" / "api_doc.py")
assert spec and spec.loader
api_doc = importlib.util.module_from_spec(spec)
sys.modules["api_doc"] = api_doc
spec.loader.exec_module(api_doc)


def covers(documented: Any, actual: Any, where: str = "") -> list[str]:
    """Problems where the documented answer's shape is not in the actual one."""
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{where or 'answer'} is no longer an object"]
        problems = []
        for key, value in documented.items():
            if key not in actual:
                problems.append(f"{where}.{key} is documented but missing")
            else:
                problems += covers(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(documented, list) and documented:
        if not isinstance(actual, list):
            return [f"{where} is no longer a list"]
        return covers(documented[0], actual[0], f"{where}[0]") if actual else []
    return []


def test_every_route_is_documented(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path}/x.db", tmp_path))
    documented = {(e.method, e.path) for e in api_doc.examples(api_doc.DOC.read_text())}
    headings = {
        tuple(line[5:-1].split(" ", 1))
        for line in api_doc.DOC.read_text().splitlines()
        if line.startswith("### `")
    }
    missing = []
    for path, ops in app.openapi()["paths"].items():
        for method in ops:
            if (method.upper(), path) not in documented | headings:
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"add these to docs/RUN4_API_LAYER.md: {missing}"


def test_documented_examples_still_answer_as_shown(tmp_path: Path) -> None:
    missing = [tool for tool in ("curl", "jq") if not shutil.which(tool)]
    if missing:
        skip_or_fail(
            f"the documented examples need {' and '.join(missing)}: apt-get install curl jq"
        )
    backend = Backend({}, tmp_path / "data").start()  # a fresh embedded install, as in the doc
    try:
        backend.wait_healthy()
        with api_doc.http_target() as target:
            results = list(api_doc.run_examples(backend.url, target))
    finally:
        backend.stop()
    assert len(results) >= 25
    problems = []
    for ex, answer in results:
        if ex.answer is None:
            continue
        try:
            documented = json.loads(ex.answer)
        except ValueError:
            if answer != ex.answer:
                problems.append(
                    f"{ex.method} {ex.path}: answered {answer!r}, doc says {ex.answer!r}"
                )
            continue
        try:
            actual = json.loads(answer)
        except ValueError:
            problems.append(f"{ex.method} {ex.path}: answered {answer[:200]!r}")
            continue
        problems += [f"{ex.method} {ex.path}: {p}" for p in covers(documented, actual)]
    assert not problems, "\n".join(problems)


# Routes that answer from settings alone, without the database.
NO_DATABASE = {"GET /api/v1/auth/oidc"}


def test_every_api_route_lists_the_outage_answer(tmp_path: Path) -> None:
    """Each /api/v1 route that reads the database says in OpenAPI it can answer the JSON 503."""
    app = create_app(make_settings(f"sqlite:///{tmp_path}/x.db", tmp_path))
    missing = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            answer = op.get("responses", {}).get("503")
            if (
                path.startswith("/api/v1/")
                and f"{method.upper()} {path}" not in NO_DATABASE
                and (answer is None or "Retry-After" not in answer.get("headers", {}))
            ):
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"add responses=responses(...) to: {missing}"
