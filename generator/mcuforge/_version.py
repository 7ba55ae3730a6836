"""The installed version of mcuforge (``0.0.0+unknown`` from a source tree not installed)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mcuforge")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
