"""The file's text side: YAML with a line and column per path, `${ENV}` references, dumping."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from app.core.errors import InvalidInput

Path = tuple[str | int, ...]
# `${NAME}` is replaced by the variable; `$${NAME}` is the escape for a literal `${NAME}`.
_REF = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME_PART = re.compile(r"[^A-Z0-9]+")


def path_text(path: Path) -> str:
    """`("plugins", 0, "config", "port")` as people write it: `plugins[0].config.port`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class ConfigFileError(InvalidInput):
    """A configuration file that cannot be used; every problem names its path, line and column."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        # problems: (where, sentence) with where like "line 3, column 5: plugins[0].name"
        first = f"{problems[0][0]}: {problems[0][1]}".rstrip(".")
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        fields: dict[str, str] = {}
        for where, said in problems:  # "line 3, column 5: plugins[0].name" -> path: "line ...: ..."
            place, _, path = where.partition(": ")
            fields.setdefault(path or "(file)", f"{place}: {said}")
        super().__init__(f"The configuration file is not valid: {first}{more}.", fields)
        self.problems = problems

    def lines(self) -> list[str]:
        return [f"{where}: {sentence}" for where, sentence in self.problems]


class Marks:
    """Where each path of a parsed document is in its text (1-based line and column)."""

    def __init__(self) -> None:
        self._at: dict[Path, tuple[int, int]] = {}

    def add(self, path: Path, mark: yaml.Mark) -> None:
        self._at[path] = (mark.line + 1, mark.column + 1)

    def where(self, path: Path) -> str:
        """`line 3, column 5: plugins[0].name`, using the nearest parent the text has."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self._at:
                line, column = self._at[path[:cut]]
                return f"line {line}, column {column}: {path_text(path)}"
        return path_text(path)


# libyaml's loader where PyYAML was built with it: the same nodes, marks and errors, ~10 times
# faster (a file of 10,000 plugins took seconds to parse in pure Python).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

NESTED_TOO_DEEPLY = "the file nests lists or mappings too deeply"
MAX_NODES = 200_000  # YAML aliases can make a small file expand enormously ("billion laughs")


class _Walk:
    """Records the marks of every path, refusing duplicate keys, cycles and runaway aliases."""

    def __init__(self, marks: Marks) -> None:
        self.marks = marks
        self.problems: list[tuple[str, str]] = []
        self.budget = MAX_NODES
        self.open: set[int] = set()  # the nodes being walked: meeting one again is a cycle

    def fail(self, node: yaml.Node, path: Path, sentence: str) -> None:
        at = f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"
        self.problems.append((f"{at}: {path_text(path)}", sentence))

    def walk(self, node: yaml.Node, path: Path) -> bool:
        self.budget -= 1
        if self.budget < 0:
            self.fail(node, path, f"the file expands to more than {MAX_NODES} values (aliases?)")
            return False
        if id(node) in self.open:
            self.fail(node, path, "this anchored value contains an alias to itself")
            return False
        self.open.add(id(node))
        try:
            return self._children(node, path)
        finally:
            self.open.discard(id(node))

    def _children(self, node: yaml.Node, path: Path) -> bool:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    self.fail(key_node, (*path, key), "this key appears twice")
                seen.add(key)
                self.marks.add((*path, key), key_node.start_mark)
                if not self.walk(value_node, (*path, key)):
                    return False
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.marks.add((*path, i), item.start_mark)
                if not self.walk(item, (*path, i)):
                    return False
        return True


def parse(text: str) -> tuple[dict[str, Any], Marks]:
    """The document as plain data, and the marks of its paths; ConfigFileError when unreadable."""
    marks = Marks()
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return {}, marks
            walker = _Walk(marks)
            walker.walk(node, ())
            if walker.problems:
                raise ConfigFileError(walker.problems)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit (1,000 levels)
            raise ConfigFileError([("YAML", NESTED_TOO_DEEPLY)]) from None
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = exc.problem or exc.context or "not valid YAML"
        raise ConfigFileError([(where, f"not valid YAML ({problem})")]) from None
    except yaml.YAMLError as exc:
        raise ConfigFileError([("YAML", f"not valid YAML ({exc})")]) from None
    except RecursionError:  # PyYAML composes nested lists recursively
        raise ConfigFileError([("YAML", NESTED_TOO_DEEPLY)]) from None
    if not isinstance(data, dict):
        raise ConfigFileError(
            [("line 1, column 1", "the file must be a mapping with keys like `plugins:`")]
        )
    return data, marks


def resolve_env(
    data: Any,
    env: Mapping[str, str],
    marks: Marks,
    path: Path = (),
    note: str = "",
    stored: Mapping[str, str] | None = None,
    used: list[tuple[Path, str]] | None = None,
) -> tuple[Any, list[tuple[str, str]]]:
    """Replace `${NAME}` in every string; each missing variable is one problem naming it.

    A value that is a whole `${NAME}` missing from `env` but in `stored` gets the stored value,
    and (path, NAME) is appended to `used`, for the caller to check it lands where it came from.
    """
    problems: list[tuple[str, str]] = []
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for k, v in data.items():
            out[k], more = resolve_env(v, env, marks, (*path, str(k)), note, stored, used)
            problems += more
        return out, problems
    if isinstance(data, list):
        items = []
        for i, v in enumerate(data):
            item, more = resolve_env(v, env, marks, (*path, i), note, stored, used)
            items.append(item)
            problems += more
        return items, problems
    if not isinstance(data, str) or "${" not in data:
        return data, problems

    def sub(m: re.Match[str]) -> str:
        if m.group(1):  # `$${NAME}`: literal
            return "${" + m.group(2) + "}"
        name = m.group(2)
        if name not in env and stored and name in stored and m.group(0) == data:
            if used is not None:
                used.append((path, name))
            return stored[name]
        if name not in env:
            problems.append(
                (
                    marks.where(path),
                    f"the environment variable {name} is not set "
                    f"(set it in the environment, or under env: in the file){note}",
                )
            )
            return ""
        return env[name]

    return _REF.sub(sub, data), problems


def escape(value: str) -> str:
    """A literal string as the file must spell it so that `${…}` in it is not resolved."""
    return _REF.sub(lambda m: "$" + m.group(0), value)


def env_name(*parts: str) -> str:
    """`UNITY_PLUGIN_HOME_NAS_PASSWORD` from ("plugin", "home nas", "password")."""
    cleaned = (_NAME_PART.sub("_", p.upper()).strip("_") for p in ("unity", *parts))
    return "_".join(p for p in cleaned if p)


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write YAML by hand.
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Mapping[str, Any]) -> str:
    text: str = yaml.dump(
        dict(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text
