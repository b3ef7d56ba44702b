"""Every property name the Cypher in `graph/` uses on a labelled node, found statically.

The contract test (`test_schema_contract.py`) holds these against the declared model
(`graph.model.PROPERTIES`): a query that reads or writes a property the model does not declare
for that label fails there, before it silently reads null in production.

How: every string literal and f-string in `graph/**.py` that looks like Cypher is rendered in its
module's namespace (interpolated label, relationship and constant names are evaluated; anything
else becomes `?`). In each rendered statement a variable bound with a label, `(x:Label ...)`,
is followed to its `x.prop` accesses, `x {.a, .b}` projections and `{prop: ...}` pattern maps.
A variable bound to several labels in one statement (a UNION of subqueries) may use a property
of any of them.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainlens.settings import PROJECT_ROOT

_CYPHER = re.compile(r"\b(MATCH|MERGE|CREATE|RETURN|UNWIND)\b")
_NODE = re.compile(r"\(\s*(\w+)\s*:\s*([A-Z]\w*)")
_REL = re.compile(r"\[\s*(\w+)\s*:\s*([A-Z][A-Z_]*)\b(?![|])")
_REL_MAP = re.compile(r"\[\s*\w*\s*:\s*([A-Z][A-Z_]*)\s*\{([^}]*)\}")
_PATTERN_MAP = re.compile(r"\(\s*(\w+)\s*:\s*([A-Z]\w*)[^)]*?\{([^}]*)\}")
_ACCESS = re.compile(r"(?<![\w.$])([a-z_]\w*)\.([a-z_]\w*)\b(?!\s*\()")
_PROJECTION = re.compile(r"(?<![\w.$])([a-z_]\w*)\s*\{([^{}]*)\}")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_COMMENT = re.compile(r"//[^\n]*")


@dataclass(frozen=True)
class Use:
    module: str
    line: int
    labels: frozenset[str]  # the labels the variable is bound to in this statement
    prop: str
    statement: str


def _render(node: ast.AST, namespace: dict[str, Any]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                try:
                    value = eval(compile(ast.Expression(v.value), "<cypher>", "eval"), namespace)
                except Exception:
                    value = "?"
                parts.append(str(value))
        return "".join(parts)
    return None


def _statements(path: Path) -> Iterator[tuple[str, int, str]]:
    module_name = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    module = importlib.import_module(module_name)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inner.update(id(v) for v in node.values)
    for node in ast.walk(tree):
        if id(node) in inner or isinstance(node, ast.Expr):
            continue  # parts of an f-string, docstrings
        text = _render(node, vars(module))
        if (text and _CYPHER.search(text) and "\n" in text) or (text and _NODE.search(text)):
            yield module_name, getattr(node, "lineno", 0), text


def uses(root: Path = PROJECT_ROOT / "graph") -> Iterator[Use]:
    """Every (labels, property) the Cypher under ``root`` names on a label-bound variable."""
    for path in sorted(root.rglob("*.py")):
        for module, line, text in _statements(path):
            text = _COMMENT.sub("", _STRING.sub("''", text))
            bound: dict[str, set[str]] = defaultdict(set)
            for var, label in _NODE.findall(text) + _REL.findall(text):
                bound[var].add(label)
            for rel, body in _REL_MAP.findall(text):
                for key in re.findall(r"(\w+)\s*:", body):
                    yield Use(module, line, frozenset({rel}), key, text)
            for _var, label, body in _PATTERN_MAP.findall(text):
                for key in re.findall(r"(\w+)\s*:", body):
                    yield Use(module, line, frozenset({label}), key, text)
            found: list[tuple[str, str]] = []
            found += _ACCESS.findall(text)
            for var, body in _PROJECTION.findall(text):
                found += [(var, p) for p in re.findall(r"\.(\w+)", body)]
            for var, prop in found:
                if var in bound:
                    yield Use(module, line, frozenset(bound[var]), prop, text)
