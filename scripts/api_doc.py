"""Runs the curl examples of docs/RUN4_API_LAYER.md against a live backend.

`python scripts/api_doc.py --write` starts a fresh backend (SQLite, a temp dir) and an HTTP
target, runs every example in order and rewrites each example's JSON answer from the real one.
The test suite uses `run_examples` to check the documented answers still match the API's shape.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "RUN4_API_LAYER.md"
DOC_BACKEND = "http://localhost:8000"
DOC_TARGET = "127.0.0.1:8089"  # host:port of the example HTTP target and webhook
EXAMPLE = re.compile(
    r"^### `(?P<method>[A-Z]+) (?P<path>\S+)`\n(?P<text>(?:(?!^#).)*?)```bash\n(?P<cmd>.*?)\n```\n"
    r"(?:```(?:json|text)\n(?P<answer>.*?)\n```\n)?",
    re.S | re.M,
)


@dataclass
class Example:
    method: str
    path: str
    command: str
    answer: str | None
    span: tuple[int, int]


def examples(text: str) -> list[Example]:
    return [
        Example(m["method"], m["path"], m["cmd"], m["answer"], m.span("answer"))
        for m in EXAMPLE.finditer(text)
    ]


def run_examples(backend: str, target: str) -> Iterator[tuple[Example, str]]:
    """Run each example in document order; yields it with the real answer."""
    env = {**os.environ}
    for ex in examples(DOC.read_text()):
        cmd = ex.command.replace(DOC_BACKEND, backend).replace(DOC_TARGET, target)
        out = subprocess.run(  # noqa: S603 - the commands are this repository's own docs
            ["bash", "-c", cmd], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        answer = out.stdout.strip().replace(target, DOC_TARGET).replace(backend, DOC_BACKEND)
        try:
            doc = json.loads(answer)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and "access_token" in doc:
            env["TOKEN"] = doc["access_token"]
        if isinstance(doc, dict) and doc.get("scope") == "probe" and "token" in doc:
            env["PROBE_TOKEN"] = doc["token"]
        if isinstance(doc, dict) and ex.method == "POST" and ex.path == "/api/v1/plugins":
            env["PLUGIN_ID"] = str(doc.get("id"))
        if isinstance(doc, dict) and ex.path == "/api/v1/metrics/series" and doc["items"]:
            env["SERIES_ID"] = str(doc["items"][0]["id"])
        yield ex, answer


def shape(value: object) -> object:
    """Keys and types, not values: what a client can count on."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


class _Target(http.server.SimpleHTTPRequestHandler):
    """Serves a directory listing to the http plugin, and takes webhook notices."""

    def do_POST(self) -> None:  # noqa: N802 - the handler's protocol
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_target() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def wait_healthy(backend: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(backend + "/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{backend}/health did not answer 200 within {seconds:g} s")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", required=True, help="base URL of a fresh backend")
    parser.add_argument("--write", action="store_true", help="rewrite the answers in the doc")
    args = parser.parse_args()
    text = DOC.read_text()
    wait_healthy(args.backend)
    with http_target() as target:
        results = list(run_examples(args.backend, target))
    for ex, answer in reversed(results):
        sys.stdout.write(f"{ex.method} {ex.path}: {answer[:100]}\n")
        if args.write and ex.span[0] >= 0:
            try:
                answer = json.dumps(json.loads(answer), indent=2)
            except ValueError:
                pass
            text = text[: ex.span[0]] + answer + text[ex.span[1] :]
    if args.write:
        DOC.write_text(text)


if __name__ == "__main__":
    main()
