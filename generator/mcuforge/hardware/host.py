"""Build the generated C with the host compiler and run it on windows (parity)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ToolchainError

#: Flags of every host build of generated code: the warnings make them a C99 lint,
#: and -ffp-contract=off keeps a*b+c as two rounded operations, as the reference does.
HOST_CFLAGS = [
    "-std=c99",
    "-O2",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-ffp-contract=off",
    "-fno-math-errno",
]

_HARNESS = """\
#include <stdio.h>
#include <stdint.h>
#include "{p}_model.h"

int main(int argc, char **argv)
{{
    static float window[{P}_WINDOW_LEN * {P}_N_CHANNELS];
    static float features[{P}_N_FEATURES];
    static float outputs[{P}_N_OUTPUTS];
    FILE *in, *out;
    if (argc != 3) {{ return 2; }}
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {{ return 2; }}
    while (fread(window, sizeof(float), {P}_WINDOW_LEN * {P}_N_CHANNELS, in)
           == (size_t)({P}_WINDOW_LEN * {P}_N_CHANNELS)) {{
        int32_t pred;
        if ({p}_features(window, features) != 0) {{ return 3; }}
        pred = (int32_t){p}_run(window, outputs);
        fwrite(&pred, sizeof pred, 1, out);
        fwrite(features, sizeof(float), {P}_N_FEATURES, out);
        fwrite(outputs, sizeof(float), {P}_N_OUTPUTS, out);
    }}
    fclose(in);
    return fclose(out) == 0 ? 0 : 4;
}}
"""


def host_compiler() -> str:
    """The host C compiler (``$CC``, else cc/gcc/clang)."""
    for cand in [os.environ.get("CC"), "cc", "gcc", "clang"]:
        if cand and shutil.which(cand):
            return cand
    raise ToolchainError(
        "no host C compiler found; install one (Debian: apt-get install gcc) or set CC"
    )


@dataclass(frozen=True)
class HostRun:
    """What the compiled C computed for each window."""

    predictions: np.ndarray  # int32 (n,): the return value of PREFIX_run
    features: np.ndarray  # float32 (n, k)
    outputs: np.ndarray  # float32 (n, n_outputs)


def build_and_run(
    files: dict[str, str],
    data: bytes,
    extra_flags: list[str] | None = None,
    what: str = "generated C",
) -> bytes:
    """Compile C ``files`` (one defines ``main``) with the host compiler and run it.

    The program gets ``in.bin`` (holding ``data``) as argv[1] and writes argv[2]; its
    bytes are returned (or its stdout when it writes no file). Every host parity
    harness of mcuforge goes through here, so all compile with ``HOST_CFLAGS``.

    Raises:
        ToolchainError: no host compiler, the C does not build cleanly, or it fails.
    """
    cc = host_compiler()
    with tempfile.TemporaryDirectory(prefix="mcuforge-host-") as tmp:
        d = Path(tmp)
        for name, text in files.items():
            (d / name).write_text(text)
        c_files = [str(d / n) for n in files if n.endswith(".c")]
        exe = d / "harness"
        proc = subprocess.run(
            [cc, *HOST_CFLAGS, *(extra_flags or []), "-I", str(d), *c_files, "-o", str(exe), "-lm"],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise ToolchainError(f"host build of the {what} failed:\n{proc.stderr}")
        (d / "in.bin").write_bytes(data)
        run = subprocess.run(
            [str(exe), str(d / "in.bin"), str(d / "out.bin")], input=data, capture_output=True
        )
        if run.returncode != 0:
            err = run.stderr.decode(errors="replace")
            raise ToolchainError(f"host harness of the {what} exited with {run.returncode}: {err}")
        out = d / "out.bin"
        return out.read_bytes() if out.exists() else run.stdout


def run_host(
    sources: dict[str, str], prefix: str, windows: np.ndarray, n_features: int, n_outputs: int
) -> HostRun:
    """Compile ``sources`` + a harness with the host compiler and run it on ``windows``.

    Raises:
        ToolchainError: the compiler is missing or rejects the code (warnings included).
    """
    harness = {**sources, "harness.c": _HARNESS.format(p=prefix, P=prefix.upper())}
    raw = build_and_run(harness, np.ascontiguousarray(windows, dtype="<f4").tobytes())
    rec = np.dtype(
        [("pred", "<i4"), ("features", "<f4", (n_features,)), ("outputs", "<f4", (n_outputs,))]
    )
    out = np.frombuffer(raw, dtype=rec)
    if len(out) != len(windows):
        raise ToolchainError(f"host harness returned {len(out)} results for {len(windows)} windows")
    return HostRun(
        out["pred"].astype(np.int32),
        out["features"].astype(np.float32),
        out["outputs"].astype(np.float32),
    )
