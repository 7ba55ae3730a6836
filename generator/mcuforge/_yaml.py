"""YAML loading that remembers where every value came from.

``load_located`` returns the plain Python value of a YAML document together with a
map from each path (a tuple of keys and list indices) to its 1-based line and
column, so validation errors can point at the exact place in the user's file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import Located, SpecError

Path_ = tuple[str | int, ...]
Marks = dict[Path_, tuple[int, int]]


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys."""


def _construct(node: yaml.Node, path: Path_, marks: Marks, loader: _Loader, file: str) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise SpecError(
                    [
                        Located(
                            file,
                            key_node.start_mark.line + 1,
                            key_node.start_mark.column + 1,
                            ".".join(map(str, path)),
                            "mapping keys must be plain scalars",
                        )
                    ]
                )
            if key in out:
                raise SpecError(
                    [
                        Located(
                            file,
                            key_node.start_mark.line + 1,
                            key_node.start_mark.column + 1,
                            ".".join(map(str, (*path, key))),
                            f"duplicate key {key!r}; remove one of the two",
                        )
                    ]
                )
            child = (*path, str(key))
            marks[(*child, "__key__")] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            out[key] = _construct(value_node, child, marks, loader, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, (*path, i), marks, loader, file) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_located(text: str, file: str) -> tuple[Any, Marks]:
    """Parse one YAML document; return its value and the location of every node.

    Raises:
        SpecError: on a YAML syntax error (with line and column) or a duplicate key.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        marks: Marks = {}
        if node is None:
            return None, marks
        return _construct(node, (), marks, loader, file), marks
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}, {problem}"
        raise SpecError([Located(file, line, col, "", f"YAML syntax error: {problem}")]) from exc
    finally:
        loader.dispose()


def load_file(path: Path) -> tuple[Any, Marks]:
    """Read and parse a YAML file; see :func:`load_located`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(
            [Located(str(path), None, None, "", f"cannot read file: {exc.strerror}")]
        ) from exc
    return load_located(text, str(path))


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
