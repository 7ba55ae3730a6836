"""String-keyed registries for the extension points.

Built-in entries are named as ``"module:attribute"`` strings and imported on first
use; third-party entries come from a Python entry-point group and are also loaded
lazily. Nothing registers itself at import time, and a name is never defined twice.
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from .errors import CatalogError

T = TypeVar("T")


class RegistryError(CatalogError, LookupError):
    """A name is unknown, or defined twice (a plugin clashing with a built-in)."""


class Registry(Generic[T]):
    """Names → classes of one extension point (feature block, model family, …)."""

    def __init__(self, kind: str, group: str, builtins: dict[str, str]) -> None:
        self.kind = kind
        self.group = group
        self._paths = dict(builtins)
        self._loaded: dict[str, type[T]] = {}
        self._plugins_scanned = False

    def _scan_plugins(self) -> None:
        if self._plugins_scanned:
            return
        self._plugins_scanned = True
        for ep in entry_points(group=self.group):
            if ep.name in self._paths:
                raise RegistryError(
                    f"{self.kind} {ep.name!r} from plugin {ep.value!r} clashes with "
                    f"{self._paths[ep.name]!r}"
                )
            self._paths[ep.name] = ep.value

    def names(self) -> list[str]:
        """Every registered name, built-in and plugin, sorted."""
        self._scan_plugins()
        return sorted(self._paths)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str) -> type[T]:
        """The class registered under ``name``, imported on first use.

        Raises:
            RegistryError: unknown name (with the closest known names).
        """
        if name in self._loaded:
            return self._loaded[name]
        self._scan_plugins()
        path = self._paths.get(name)
        if path is None:
            close = difflib.get_close_matches(name, list(self._paths), n=2)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._paths))})"
            )
        module, _, attr = path.partition(":")
        cls: type[T] = getattr(importlib.import_module(module), attr)
        self._loaded[name] = cls
        return cls
