"""YAML loading that remembers where every value came from, within limits.

``load_located`` returns the plain Python value of a YAML document together with a
map from each path (a tuple of keys and list indices) to its 1-based line and
column, so validation errors can point at the exact place in the user's file.

The loader is safe against hostile files: only plain values (strings, numbers,
booleans, null, lists, mappings) are accepted, so no tag (``!!python/...``,
``!!binary``, ``!custom``) builds anything else, and dates stay strings; each anchor is
built once and every alias shares it, and a document whose aliases expand it beyond
:data:`MAX_VALUES` values (an "alias bomb", a few lines that expand to billions) is
refused before anything downstream sees it, as are recursive aliases, nesting deeper
than :data:`MAX_DEPTH`, and files over :data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import Located, SpecError

Path_ = tuple[str | int, ...]
Marks = dict[Path_, tuple[int, int]]

#: Values a document may hold once its aliases are expanded (a spec holds a few hundred).
MAX_VALUES = 100_000
#: Nesting depth of mappings and lists.
MAX_DEPTH = 64
#: Size of a spec, catalog or lock file.
MAX_FILE_BYTES = 16 * 1024 * 1024

_CORE = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))
_MERGE = _CORE + "merge"


#: libyaml's parser when PyYAML was built with it (ten times faster), else PyYAML's own.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """The safe loader without implicit timestamps (dates stay strings)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _CORE + "timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
#: YAML 1.2's exponent floats without a dot (``1e-3``, ``2E5``): YAML 1.1, which PyYAML
#: follows, reads them as strings, the JSON Schema and editors as numbers.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
for _first in "-+0123456789.":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).append(
        (_CORE + "float", _EXPONENT_FLOAT)
    )


def _problem(file: str, node: yaml.Node | None, path: Path_, message: str) -> SpecError:
    line = node.start_mark.line + 1 if node is not None else None
    col = node.start_mark.column + 1 if node is not None else None
    return SpecError([Located(file, line, col, ".".join(map(str, path)), message)])


class _Builder:
    """Builds plain values from a node graph: each node once, expanded size counted."""

    def __init__(self, loader: _Loader, file: str) -> None:
        self.loader, self.file = loader, file
        self.marks: Marks = {}
        self.built: dict[int, Any] = {}
        self.size: dict[int, int] = {}  # values under a node once its aliases are expanded
        self.open: set[int] = set()

    def build(self, node: yaml.Node, path: Path_, depth: int = 0) -> Any:
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        key = id(node)
        if key in self.built:  # an alias: the anchor's value, shared
            return self.built[key]
        if key in self.open:
            raise _problem(self.file, node, path, "recursive alias: a value contains itself")
        if depth > MAX_DEPTH:
            raise _problem(self.file, node, path, f"nested deeper than {MAX_DEPTH} levels")
        if node.tag not in _PLAIN_TAGS:
            raise _problem(
                self.file,
                node,
                path,
                f"tag {node.tag.removeprefix(_CORE)!r} is not allowed: mcuforge files hold "
                "plain strings, numbers, booleans, lists and mappings",
            )
        self.open.add(key)
        if isinstance(node, yaml.MappingNode):
            value: Any = self._mapping(node, path, depth)
            size = 1 + sum(self.size[id(v)] for _, v in node.value if id(v) in self.size)
        elif isinstance(node, yaml.SequenceNode):
            value = [self.build(v, (*path, i), depth + 1) for i, v in enumerate(node.value)]
            size = 1 + sum(self.size[id(v)] for v in node.value)
        else:
            value = self._scalar(node, path)
            size = 1
        self.open.discard(key)
        if size > MAX_VALUES:
            raise _problem(
                self.file,
                node,
                path,
                f"aliases expand this document to more than {MAX_VALUES} values; "
                "write the values out instead of nesting aliases",
            )
        self.built[key], self.size[key] = value, size
        return value

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError) as exc:
            raise _problem(self.file, node, path, f"cannot read this value: {exc}") from None

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        merged: list[dict[Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self._merge_sources(value_node, path, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                raise _problem(self.file, key_node, path, "mapping keys must be plain scalars")
            key = self._scalar(key_node, path)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise _problem(self.file, key_node, path, "mapping keys must be plain scalars")
            if key in out:
                raise _problem(
                    self.file,
                    key_node,
                    (*path, str(key)),
                    f"duplicate key {key!r}; remove one of the two",
                )
            child = (*path, str(key))
            self.marks[(*child, "__key__")] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            out[key] = self.build(value_node, child, depth + 1)
        for source in merged:  # `<<: *base`: keys written here win over merged ones
            for k, v in source.items():
                out.setdefault(k, v)
        return out

    def _merge_sources(self, node: yaml.Node, path: Path_, depth: int) -> list[dict[Any, Any]]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = []
        for n in nodes:
            value = self.build(n, (*path, "<<"), depth + 1)
            if not isinstance(value, dict):
                raise _problem(self.file, n, path, "`<<` merges mappings only")
            sources.append(value)
        return sources


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str) -> SpecError:
    """A character YAML does not allow (a control character), at its line and column."""
    line = text.count("\n", 0, exc.position) + 1
    col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
    return SpecError(
        [Located(file, line, col, "", f"character U+{char:04X} is not allowed in a YAML file")]
    )


#: PyYAML's context for an error inside ``{...}`` or ``[...]``, and the closing bracket.
_FLOW = {"while parsing a flow mapping": "}", "while parsing a flow sequence": "]"}


def _indent(lines: list[str], index: int) -> int:
    """Spaces before the text of line ``index`` (0-based); 0 past the end or for a blank
    line (the end of the file)."""
    text = lines[index] if index < len(lines) else ""
    return len(text) - len(text.lstrip(" ")) if text.strip() else 0


def _syntax_error(exc: yaml.MarkedYAMLError, file: str, text: str) -> Located:
    """A YAML syntax error where it is. A bracket left open (``{from: folder``) is noticed
    only on a later line, where the next key does not continue it: then the error is at
    the opening bracket, naming both lines. A later line indented deeper than the
    bracket's is still inside it (a missing comma between items on their own lines):
    that error stays where YAML noticed it."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    problem = exc.problem or "invalid YAML"
    opened, close = exc.context_mark, _FLOW.get(exc.context or "")
    lines = text.splitlines()
    if (
        close
        and opened
        and mark
        and opened.line < mark.line
        and _indent(lines, mark.line) <= _indent(lines, opened.line)
    ):
        return Located(
            file,
            opened.line + 1,
            opened.column + 1,
            "",
            f"YAML syntax error: the `{'{' if close == '}' else '['}` opened here is not "
            f"closed: a `{close}` (or a `,` between its items) is missing; YAML noticed at "
            f"line {line}, column {col} ({problem})",
        )
    if exc.context:
        problem = f"{exc.context}, {problem}"
    return Located(file, line, col, "", f"YAML syntax error: {problem}")


def load_located(text: str, file: str) -> tuple[Any, Marks]:
    """Parse one YAML document; return its value and the location of every node.

    Raises:
        SpecError: a YAML syntax error (with line and column), a duplicate key, a tag,
            a recursive alias, too deep nesting or too large an expansion.
    """
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        builder = _Builder(loader, file)
        value = builder.build(node, ())
        return value, builder.marks
    except yaml.MarkedYAMLError as exc:
        raise SpecError([_syntax_error(exc, file, text)]) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    except RecursionError:
        where = f"nested deeper than {MAX_DEPTH} levels"
        line, col = getattr(loader, "line", -1) + 1, getattr(loader, "column", -1) + 1
        raise SpecError([Located(file, line or None, col or None, "", where)]) from None
    finally:
        loader.dispose()


def load_file(path: Path) -> tuple[Any, Marks]:
    """Read and parse a YAML file (UTF-8); see :func:`load_located`."""
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(
                [
                    Located(
                        file,
                        None,
                        None,
                        "",
                        f"file is {size / 1e6:.0f} MB; mcuforge reads YAML files of at most "
                        f"{MAX_FILE_BYTES // (1024 * 1024)} MB",
                    )
                ]
            )
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SpecError([Located(file, None, None, "", f"cannot read file: {reason}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            [
                Located(
                    file,
                    line,
                    col,
                    "",
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                )
            ]
        ) from None
    return load_located(text.removeprefix("\ufeff"), file)


def locate(marks: Marks, loc: Path_, key: bool = False) -> tuple[int | None, int | None]:
    """The line and column of the deepest known prefix of ``loc``.

    Elements of ``loc`` that are not part of the document (pydantic adds union tags
    such as ``"inline"``) are skipped. With ``key`` the mark of the key itself is
    returned when known (useful for "unknown key" messages).
    """
    path: Path_ = ()
    best = marks.get((), (None, None))
    for part in loc:
        candidate = (*path, part)
        if candidate in marks:
            path = candidate
            best = marks[path]
    if key and (*path, "__key__") in marks:
        return marks[(*path, "__key__")]
    return best
