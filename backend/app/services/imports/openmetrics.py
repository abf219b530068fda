"""OpenMetrics text, line by line: what `promtool tsdb dump-openmetrics` (and `tsdb dump`) write.

Accepted sample lines (one sample each, a timestamp required: history needs one):

    name{label="value",...} VALUE TIMESTAMP          OpenMetrics (seconds, e.g. 1700000000.000)
    name VALUE TIMESTAMP                            no labels
    {__name__="name", label="value"} VALUE TIMESTAMP promtool 2.x `tsdb dump` (milliseconds)

A timestamp of 1e11 or more is taken as milliseconds (the Prometheus text format and
`tsdb dump`), a smaller one as seconds (OpenMetrics): the two ranges meet in 1973.
`# TYPE`, `# HELP` and other comments are skipped, `# UNIT name unit` sets the series' unit,
`# EOF` ends the input; an exemplar (` # {...} v t` after the sample) is ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

MS_FROM = 1e11  # timestamps from here on are milliseconds
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
# Units for metrics without `# UNIT`, from the Prometheus naming conventions' suffixes.
_SUFFIX_UNITS = (
    ("_seconds_total", "s"),
    ("_seconds", "s"),
    ("_bytes_total", "bytes"),
    ("_bytes", "bytes"),
    ("_percent", "percent"),
    ("_ratio", "ratio"),
    ("_celsius", "°C"),
)


class ParseError(ValueError):
    """A line that is not OpenMetrics; the message names the line and what is wrong."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.reason = message


@dataclass(frozen=True, slots=True)
class Point:
    name: str
    labels: dict[str, str]
    value: float
    ts: float  # seconds since the epoch


def unit_of(name: str, declared: dict[str, str]) -> str:
    if name in declared:
        return declared[name]
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _labels(text: str, pos: int, lineno: int) -> tuple[dict[str, str], int]:
    """The label set starting at text[pos] == "{"; returns it and the position after "}"."""
    labels: dict[str, str] = {}
    pos += 1
    end = len(text)
    while True:
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos < end and text[pos] == "}":
            return labels, pos + 1
        m = _LABEL.match(text, pos)
        if m is None:
            raise ParseError(lineno, f"expected a label name or '}}' at column {pos + 1}")
        key = m.group()
        pos = m.end()
        if text[pos : pos + 2] != '="':
            raise ParseError(lineno, f'expected =" after label {key!r} at column {pos + 1}')
        pos += 2
        chars: list[str] = []
        while True:
            if pos >= end:
                raise ParseError(lineno, f"the value of label {key!r} has no closing quote")
            c = text[pos]
            if c == '"':
                pos += 1
                break
            if c == "\\":
                nxt = text[pos + 1 : pos + 2]
                if nxt not in _ESCAPES:
                    raise ParseError(
                        lineno, f'unknown escape \\{nxt} in label {key!r} (use \\\\, \\" or \\n)'
                    )
                chars.append(_ESCAPES[nxt])
                pos += 2
                continue
            chars.append(c)
            pos += 1
        if key in labels:
            raise ParseError(lineno, f"label {key!r} appears twice")
        labels[key] = "".join(chars)
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos < end and text[pos] == ",":
            pos += 1
        elif pos < end and text[pos] == "}":
            return labels, pos + 1
        else:
            raise ParseError(lineno, f"expected ',' or '}}' after label {key!r}")


def _number(token: str, what: str, lineno: int) -> float:
    try:
        return float(token)
    except ValueError:
        raise ParseError(lineno, f"{what} {token!r} is not a number") from None


def parse_line(text: str, lineno: int, units: dict[str, str]) -> Point | Literal[False] | None:
    """One line: a Point, None for a line without a sample, False at `# EOF`.

    `units` collects `# UNIT` lines as they come.
    """
    text = text.rstrip("\r\n")
    if not text.strip():
        return None
    if text.startswith("#"):
        parts = text.split(None, 3)
        if parts[:2] == ["#", "EOF"]:
            return False
        if len(parts) >= 4 and parts[:2] == ["#", "UNIT"]:
            units[parts[2]] = parts[3].strip()
        return None
    if text.startswith("{"):
        labels, pos = _labels(text, 0, lineno)
        name = labels.pop("__name__", "")
        if not name:
            raise ParseError(lineno, "a sample starting with '{' needs a __name__ label")
    else:
        m = _NAME.match(text)
        if m is None:
            raise ParseError(lineno, f"expected a metric name, found {text[:40]!r}")
        name, pos = m.group(), m.end()
        labels = {}
        if text[pos : pos + 1] == "{":
            labels, pos = _labels(text, pos, lineno)
    rest = text[pos:]
    if rest and rest[0] not in " \t":
        raise ParseError(lineno, f"expected a space after {name!r}")
    rest = rest.split(" #", 1)[0]  # an exemplar follows " # "
    tokens = rest.split()
    if not tokens:
        raise ParseError(lineno, f"sample {name!r} has no value")
    if len(tokens) == 1:
        raise ParseError(
            lineno,
            f"sample {name!r} has no timestamp; history needs one per sample "
            "(seconds, as OpenMetrics, or milliseconds)",
        )
    if len(tokens) > 2:
        raise ParseError(lineno, f"unexpected {tokens[2]!r} after the timestamp of {name!r}")
    value = _number(tokens[0], "value", lineno)
    ts = _number(tokens[1], "timestamp", lineno)
    if not math.isfinite(ts):
        raise ParseError(lineno, f"timestamp {tokens[1]!r} is not a time")
    if abs(ts) >= MS_FROM:
        ts /= 1000.0
    return Point(name, labels, value, ts)
