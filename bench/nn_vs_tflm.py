"""mcuforge int8 network C against TensorFlow Lite Micro, on BasicMotions.

For each small network (trained two epochs on the bundled example, quantised to int8):

* SRAM: our arena (static, from the memory plan) + the stack measured in QEMU
  (painted, Cortex-M4) against the smallest ``arena_size`` with which the
  tflite-micro interpreter allocates the model (binary search, 16-byte steps).
* flash: text + rodata + data of the generated C compiled with arm-none-eabi-gcc -Os
  for Cortex-M4F (object file; weights, constants and kernels; no interpreter).
* instructions: QEMU ``-icount shift=0`` on mps2-an386 (SysTick ticks x 40), per
  inference (the worst input), instructions per MAC of the whole network (goal of
  issue 17: <= 2.0 on the Cortex-M4F), and per operator for the dense, convolution and
  depthwise layers of at least 16k MACs (per-operator ticks through the ``PREFIX_TRACE``
  hook). ``cnn1d_100k`` is the ``cnn1d`` family of the raw-cnn1d recipe with
  filters=32, kernel_size=3, layers=2 on the window decimated by 2 (50 x 6).
* bit-exact: every window of the example through the Cortex-M4 build (DSP kernels)
  compared byte for byte with ai-edge-litert's reference kernels, and the ``tflm``
  build compared with the tflite-micro interpreter.

Usage: ``.venv/bin/python bench/nn_vs_tflm.py > section.md`` (about a minute).
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from mcuforge.codegen.nn import emit_network, quantize_input  # noqa: E402
from mcuforge.codegen.nn._graph import parse  # noqa: E402
from mcuforge.codegen.nn._reference import Reference  # noqa: E402
from mcuforge.compress import quantize_int8  # noqa: E402
from mcuforge.data import load_dataset  # noqa: E402
from mcuforge.spec import load_spec  # noqa: E402
from mcuforge.testing._baremetal import compile_object, run_baremetal  # noqa: E402

M4F = "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
#: Whole-network instructions per MAC on the Cortex-M4F (issue 17).
GOAL = 2.0


def _zoo(keras: Any) -> dict[str, tuple[Any, Callable[[np.ndarray], np.ndarray]]]:
    L = keras.layers

    def mlp() -> Any:
        i = keras.Input((600,))
        h = L.Dense(16, activation="relu")(L.ReLU(max_value=6.0)(i))
        h = L.Add()([h, L.Dense(16, activation="tanh")(h)])
        return keras.Model(i, L.Softmax()(L.Dense(4)(h)))

    def cnn1d() -> Any:
        i = keras.Input((100, 6))
        h = L.MaxPooling1D(2)(L.Conv1D(8, 5, padding="same", activation="relu6")(i))
        h = L.Concatenate()([L.Conv1D(8, 3)(h), L.AveragePooling1D(3, strides=1)(h)])
        return keras.Model(i, L.Dense(4, activation="sigmoid")(L.GlobalAveragePooling1D()(h)))

    def ds_cnn() -> Any:
        i = keras.Input((100, 6, 1))
        h = L.Conv2D(8, (5, 3), strides=(2, 1), padding="same", activation="relu")(i)
        h = L.DepthwiseConv2D(3, padding="same", activation="relu")(h)
        h = L.AveragePooling2D((2, 1))(L.Conv2D(12, 1, activation="relu")(h))
        return keras.Model(i, L.Softmax()(L.Dense(4)(L.GlobalAveragePooling2D()(h))))

    def autoencoder() -> Any:
        i = keras.Input((60,))
        return keras.Model(i, L.Dense(60)(L.Dense(12, activation="relu")(i)))

    def dense_256() -> Any:  # one large dense layer: inner-loop cost
        i = keras.Input((600,))
        return keras.Model(i, L.Dense(4)(L.Dense(64)(L.Dense(256)(i))))

    def cnn1d_100k() -> Any:  # the raw-cnn1d family: filters=32, kernel_size=3, layers=2
        i = keras.Input((50, 6))  # raw.decimate: 2
        h = L.MaxPooling1D(2)(L.Conv1D(32, 3, padding="valid", activation="relu")(i))
        h = L.MaxPooling1D(2)(L.Conv1D(32, 3, padding="same", activation="relu")(h))
        return keras.Model(i, L.Dense(4)(L.GlobalAveragePooling1D()(h)))

    def conv_32() -> Any:  # one large convolution: inner-loop cost
        i = keras.Input((100, 6))
        h = L.Conv1D(32, 5, activation="relu")(L.Conv1D(16, 3, activation="relu")(i))
        return keras.Model(i, L.Dense(4)(L.GlobalAveragePooling1D()(h)))

    flat = lambda x: x.reshape(len(x), -1)  # noqa: E731
    pairs = lambda x: x.reshape(len(x), 50, 2, x.shape[2]).mean(axis=2)  # noqa: E731
    small = lambda x: x[:, ::10, :].reshape(len(x), -1)  # noqa: E731
    return {
        "mlp": (mlp(), flat),
        "cnn1d": (cnn1d(), lambda x: x),
        "ds_cnn": (ds_cnn(), lambda x: x[..., None]),
        "autoencoder": (autoencoder(), small),
        "cnn1d_100k": (cnn1d_100k(), pairs),
        "dense_256": (dense_256(), flat),
        "conv_32": (conv_32(), lambda x: x),
    }


_PROBE = """
import sys
from tflite_micro.python.tflite_micro import runtime
runtime.Interpreter.from_bytes(open(sys.argv[1], "rb").read(), arena_size=int(sys.argv[2]))
"""


def tflm_min_arena(tflite: bytes) -> int:
    """Smallest arena_size the tflite-micro interpreter accepts (each try in a child
    process: an arena that is too small can crash it, not only fail)."""
    with tempfile.NamedTemporaryFile(suffix=".tflite") as fh:
        fh.write(tflite)
        fh.flush()

        def fits(n: int) -> bool:
            cmd = [sys.executable, "-c", _PROBE, fh.name, str(n)]
            return subprocess.run(cmd, capture_output=True).returncode == 0

        lo, hi = 16, 1 << 20
        while hi - lo > 16:
            mid = (lo + hi) // 2 // 16 * 16
            lo, hi = (lo, mid) if fits(mid) else (mid, hi)
        return hi


def object_flash(code: str) -> int:
    keep = (
        "int bench_keep(void);\n"
        "int bench_keep(void) { return nn_invoke()[0] + *nn_input() + nn_quantize(0.0f); }\n"
    )
    obj = compile_object("#include <stdint.h>\n" + code + keep, M4F)
    total = 0
    for sec in ELFFile(BytesIO(obj)).iter_sections():
        flags = sec["sh_flags"]
        if flags & 0x2 and sec["sh_type"] != "SHT_NOBITS":  # allocated, with contents
            total += sec["sh_size"]
    return total


def main() -> None:
    import keras

    loaded = load_spec(ROOT / "examples" / "basicmotions" / "spec.yaml")
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    windows = np.concatenate([ds.train.x, ds.test.x])
    keras.utils.set_random_seed(0)
    rows, inner = [], []
    for name, (model, prep) in _zoo(keras).items():
        x = prep(ds.train.x).astype(np.float32)
        y: np.ndarray = x if name == "autoencoder" else ds.train.y
        loss = "mse" if name == "autoencoder" else "sparse_categorical_crossentropy"
        model.compile("adam", loss)
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        tflite = quantize_int8(model, x, seed=0)
        net = emit_network(tflite, "nn")
        q = quantize_input(
            prep(windows).reshape(len(windows), -1), net.input.scale, net.input.zero_point
        )
        io = (net.input.scale, net.input.zero_point), (net.output.scale, net.output.zero_point)
        n_ops = len(parse(tflite).ops)
        run = run_baremetal(net.code, "nn", q, net.output.size, n_ops, M4F)
        exact = int(np.all(run.outputs == Reference(tflite, "litert").run(q, *io), axis=1).sum())
        tnet = emit_network(tflite, "nn", "tflm")
        trun = run_baremetal(tnet.code, "nn", q, tnet.output.size, n_ops, M4F)
        texact = int(np.all(trun.outputs == Reference(tflite, "tflm").run(q, *io), axis=1).sum())
        tflm = tflm_min_arena(tflite)
        ours = net.arena_bytes + run.stack_bytes
        instr = int(run.instructions.max())
        rows.append(
            f"| {name} | {net.params} | {net.macs} | {net.arena_bytes} + {run.stack_bytes} = "
            f"{ours} | {tflm} | {ours / tflm:.2f} | {object_flash(net.code)} | {instr} | "
            f"{instr / net.macs:.2f}{' ✓' if instr / net.macs <= GOAL else ' ✗'} | "
            f"{exact}/{len(q)} | {texact}/{len(q)} |"
        )
        g = parse(tflite)
        op_index = [
            op.index for op in g.ops if op.kind not in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
        ]
        for layer, idx in zip(net.layers, op_index, strict=True):
            matmul = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")
            if layer.kind in matmul and layer.macs >= 16384:
                ticks = int(np.median(run.op_ticks[:, idx]))
                tticks = int(np.median(trun.op_ticks[:, idx]))
                inner.append(
                    f"| {name} | {layer.kind} | {layer.macs} | {layer.outputs} | "
                    f"{ticks * 40 / layer.macs:.2f} | {tticks * 40 / layer.macs:.2f} |"
                )
    today = datetime.date.today().isoformat()
    print(f"## Int8 networks: generated C vs TensorFlow Lite Micro ({today})\n")
    print(
        "Command: `.venv/bin/python bench/nn_vs_tflm.py` (QEMU 7.2 mps2-an386, "
        "arm-none-eabi-gcc 12.2 -Os, Cortex-M4F; ai-edge-litert and tflite-micro "
        "from the venv). Networks trained 2 epochs on BasicMotions, full-int8 PTQ.\n"
    )
    print(
        "| model | params | MACs | our SRAM: arena + stack (B) | TFLM arena (B) | ratio | "
        f"our flash (B) | instructions / inference | instr / MAC (goal <= {GOAL}) | "
        "bit-exact vs LiteRT | "
        "bit-exact vs TFLM (tflm mode) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        "\nDense, convolution and depthwise layers of at least 16k MACs, whole layer "
        "(inner loop, loads, requantisation of every output, im2col), Cortex-M4 DSP "
        "kernels:\n"
    )
    print("| model | layer | MACs | outputs | instr / MAC (LiteRT-exact) | instr / MAC (tflm) |")
    print("|---|---|---|---|---|---|")
    print("\n".join(inner))


if __name__ == "__main__":
    main()
