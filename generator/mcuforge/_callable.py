"""A subpackage that is also the API function of its name (``mcuforge.search``).

``mcuforge.search(spec, ...)`` is :func:`mcuforge.api.search`; ``mcuforge.search`` is
also the package of the search. Once the package is imported (by any API call), Python
binds the attribute ``mcuforge.search`` to it, so the package's module object forwards a
call to the function of the same name in :mod:`mcuforge.api` (looked up when called:
the search does not depend on the API above it).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class CallableModule(ModuleType):
    """A module that, called, calls ``mcuforge.api.<its last name>``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        function = getattr(importlib.import_module("mcuforge.api"), self.__name__.rsplit(".")[-1])
        return function(*args, **kwargs)
