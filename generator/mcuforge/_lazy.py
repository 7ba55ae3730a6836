"""Heavy optional modules (TensorFlow/Keras), imported on first use and quietly.

Commands that never train a network (validate, explain, the tree recipes) must not
pay for importing TensorFlow, and its native start-up logging (oneDNN, CUDA probing,
absl) is noise to an mcuforge user: those lines are filtered out of the process's
stderr while the module loads; anything else it prints passes through.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType
from typing import Any

_NOISE = re.compile(
    r"^(?:[IWE]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]|WARNING: All log messages before absl"
    r"|To enable the following instructions|fully_quantize: |This TensorFlow binary)"
)


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Filter TensorFlow's native log lines out of file descriptor 2 for a while."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):  # stderr replaced (pytest capture, IDEs)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            kept = [
                ln
                for ln in tmp.read().decode(errors="replace").splitlines()
                if ln.strip() and not _NOISE.match(ln)
            ]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


class LazyModule:
    """A module imported (quietly) on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def _load(self) -> ModuleType:
        if self._module is None:
            with quiet_native_stderr():
                self._module = importlib.import_module(self._name)
                # the devices are probed on the first tensor, not at import: probe them
                # here so that CUDA's "failed call to cuInit" on a machine without a GPU
                # is filtered too instead of landing in the middle of the search's output
                tf = self._module if self._name == "tensorflow" else sys.modules.get("tensorflow")
                if tf is not None and hasattr(tf, "config"):
                    with contextlib.suppress(Exception):  # an odd driver: found on first use
                        tf.config.list_physical_devices()
        return self._module

    def module(self) -> Any:
        """The module itself, imported quietly: for a module whose classes derive from
        its classes at import time (a plain ``import keras`` printed TensorFlow's
        start-up lines in the middle of the search's output)."""
        return self._load()

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)


keras: Any = LazyModule("keras")
tensorflow: Any = LazyModule("tensorflow")
