"""Optional parts of mcuforge and the pip extras that install them.

The core install (``pip install mcuforge``) trains and generates trees, linear models,
k-NN and naive Bayes, extracts features, writes the C, costs it and writes the firmware
project and the report. Three extras add what only some runs need (``pyproject.toml``
``[project.optional-dependencies]`` lists the same packages; a test keeps them in step):

* ``nn``: TensorFlow (Keras) and LiteRT, for the int8 network recipes (MLP, 1D-CNN,
  DS-CNN, autoencoder);
* ``emulate``: the unicorn emulator, which counts the instructions of the cross-compiled
  C (the ``emulated`` cost source; it needs the Arm toolchain too);
* ``plots``: matplotlib, for the plots of report.html.

Whether an extra is there is asked of the import system (:func:`importlib.util.find_spec`),
which finds a module without importing it: ``validate`` and ``explain`` stay fast.
"""

from __future__ import annotations

import importlib.util

#: Extra name -> the modules it provides (import names).
EXTRAS: dict[str, tuple[str, ...]] = {
    "nn": ("tensorflow", "ai_edge_litert"),
    "emulate": ("unicorn",),
    "plots": ("matplotlib",),
}


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here (empty when installed).

    Raises:
        KeyError: ``extra`` is not one of :data:`EXTRAS`.
    """
    out = []
    for module in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a broken or half-removed install
            found = False
        if not found:
            out.append(module)
    return out


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, as the messages quote it."""
    return f"pip install 'mcuforge[{extra}]'"


def needs(extra: str) -> str | None:
    """Why ``extra`` is needed and not here (``needs `pip install ...` (tensorflow is not
    installed)``), or None when it is installed."""
    gone = missing(extra)
    if not gone:
        return None
    verb = "is" if len(gone) == 1 else "are"
    return f"needs `{install_hint(extra)}` ({', '.join(gone)} {verb} not installed)"


__all__ = ["EXTRAS", "install_hint", "missing", "needs"]
