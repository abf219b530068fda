"""The service layer stays free of the web framework, so every domain can be used without HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import app.services

WEB = ("fastapi", "starlette")
SERVICES = Path(app.services.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_service_imports_fastapi_or_starlette() -> None:
    offenders = {
        f"{path.relative_to(SERVICES)}: {name}"
        for path in SERVICES.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in WEB
    }
    assert not offenders, f"services must not import the web framework: {sorted(offenders)}"


def test_services_are_grouped_by_domain_and_stay_small() -> None:
    flat = [p.name for p in SERVICES.glob("*.py") if p.name != "__init__.py"]
    assert not flat, f"a service module belongs in its domain folder: {flat}"
    long = {
        str(p.relative_to(SERVICES)): n
        for p in SERVICES.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 420
    }
    assert not long, f"split these at their seams: {long}"
