"""A compiler launcher for mcuforge's own firmware builds: the model's object files are
compiled once per content and flags, and reused by the later builds of one ``generate``.

A measurement builds the same firmware several times (the stack probe, the deployable
link, the self-test that sizes the embedded test windows, the QEMU run), each in its own
CMake project with other options; a large inline forest is a megabyte of C and about
ten seconds of ``arm-none-eabi-gcc`` per build. CMake runs this script as
``CMAKE_C_COMPILER_LAUNCHER`` (``python _objcache.py CC ARGS...``) when
``MCUFORGE_OBJECT_CACHE`` names a folder. For a source under a ``model`` folder it
preprocesses the file with the same arguments (which also writes the dependency file
CMake asked for), and keys the object on the compiler, the flags that are not defines,
include folders or file names, and the preprocessed text without line markers: the
same key is the same code and data (with ``-g``, a reused object's debug information
names the folder it was first compiled in: these builds are scratch, measured for
sizes, stack and cycles, never debugged). Other sources, and every source without the
variable, are compiled as they are. The user's own build (the build check, the README's
commands) never goes through it.

It imports nothing from mcuforge (it runs once per compiled file: a bare interpreter
starts in a few tens of milliseconds).
"""

from __future__ import annotations

import contextlib
import os
import sys

ENV = "MCUFORGE_OBJECT_CACHE"
#: Options followed by a value that names a file or folder of this build only.
_PATH_VALUED = ("-o", "-MT", "-MF", "-MQ", "-I", "-isystem", "-include")


def _split(args: list[str]) -> tuple[list[str], str | None, str | None]:
    """The flags that shape the object (defines, include folders, the dependency file's
    options, the source and output removed), the source and the object."""
    key: list[str] = []
    source = obj = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in _PATH_VALUED and i + 1 < len(args):
            if a == "-o":
                obj = args[i + 1]
            i += 2
            continue
        if a == "-c" and i + 1 < len(args):
            source = args[i + 1]
            i += 2
            continue
        if a.startswith(("-D", "-U", "-I", "-MT", "-MF")) or a in ("-MD", "-MMD", "-c"):
            i += 1
            continue
        key.append(a)
        i += 1
    return key, source, obj


def _preprocess_args(args: list[str], obj: str) -> list[str]:
    """``args`` without ``-o OBJ`` and ``-c``, to preprocess (``-E -P``) to stdout."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "-o" and i + 1 < len(args) and args[i + 1] == obj:
            i += 2
            continue
        if args[i] == "-c":
            out.append(args[i + 1])  # the source, as a plain input
            i += 2
            continue
        out.append(args[i])
        i += 1
    return [*out, "-E", "-P"]


def cached(argv: list[str]) -> bool:
    """Whether ``argv`` compiles a model source while a cache folder is set."""
    if not os.environ.get(ENV) or "-c" not in argv[:-1]:
        return False
    source = argv[argv.index("-c") + 1]
    return "model" in source.replace(os.sep, "/").split("/")


def run(argv: list[str]) -> int:
    """Compile as ``argv`` says (``[compiler, *args]``), through the cache when it can."""
    import hashlib
    import subprocess

    compiler, args = argv[0], argv[1:]
    flags, _, obj = _split(args)
    if not cached(argv) or obj is None:
        return subprocess.call(argv)
    cache = os.environ[ENV]
    pre = subprocess.run(
        [compiler, *_preprocess_args(args, obj)], capture_output=True
    )  # also writes the dependency file (-MD -MT -MF stay)
    if pre.returncode != 0:
        return subprocess.call(argv)  # the compiler says why
    key = hashlib.sha256("\0".join([compiler, *flags]).encode() + b"\0" + pre.stdout)
    stored = os.path.join(cache, f"{key.hexdigest()[:32]}.o")
    if os.path.isfile(stored):
        try:  # whole or not at all: make relinks what it finds
            _copy(stored, obj)
            return 0
        except OSError:
            pass  # compile it, then
    code = subprocess.call(argv)
    if code == 0:
        with contextlib.suppress(OSError):  # a full disk costs the reuse, not the build
            _copy(obj, stored)
    return code


def _copy(src: str, dst: str) -> None:
    """Copy ``src`` to ``dst`` through a temporary file and a rename."""
    import shutil

    part = f"{dst}.{os.getpid()}.tmp"
    try:
        shutil.copyfile(src, part)
        os.replace(part, dst)
    finally:
        if os.path.exists(part):
            os.remove(part)


if __name__ == "__main__":
    if not cached(sys.argv[1:]):  # the other sources: the compiler in this process's place
        os.execvp(sys.argv[1], sys.argv[1:])
    sys.exit(run(sys.argv[1:]))
