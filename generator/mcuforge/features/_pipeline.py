"""A chain of feature blocks: window blocks side by side, then vector blocks in turn."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..cost import CoreCosts
from ._base import BlockCost, CFunction, FeatureBlock

WindowCache = Callable[[FeatureBlock, str], np.ndarray]


class FeaturePipeline:
    """The feature part of a candidate: what runs before the model, in Python and C."""

    def __init__(self, blocks: list[FeatureBlock]) -> None:
        window = [b for b in blocks if b.input == "window"]
        vector = [b for b in blocks if b.input == "vector"]
        if blocks and not window:
            raise ValueError("a feature pipeline needs at least one window block (e.g. raw)")
        if blocks[: len(window)] != window:
            raise ValueError("window blocks come first, then vector blocks (projections)")
        self.blocks = blocks
        self.window_blocks = window
        self.vector_blocks = vector

    @property
    def n_window_outputs(self) -> int:
        return sum(b.n_outputs for b in self.window_blocks)

    @property
    def n_outputs(self) -> int:
        if self.vector_blocks:
            return self.vector_blocks[-1].n_outputs
        return self.n_window_outputs

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Shape of the model input: a single window block keeps its own shape."""
        last = self.vector_blocks[-1] if self.vector_blocks else None
        if last is not None:
            return last.output_shape
        if len(self.window_blocks) == 1:
            return self.window_blocks[0].output_shape
        return (self.n_outputs,)

    @property
    def feature_names(self) -> list[str]:
        if self.vector_blocks:
            return self.vector_blocks[-1].feature_names
        return [n for b in self.window_blocks for n in b.feature_names]

    @property
    def tolerance(self) -> float:
        return max([b.tolerance for b in self.blocks] + [0.0])

    def window_features(
        self, x: np.ndarray, cached: WindowCache | None = None, split: str = ""
    ) -> np.ndarray:
        """Concatenated outputs of the window blocks (stateless, so cacheable)."""
        parts = [cached(b, split) if cached else b.transform(x) for b in self.window_blocks]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def fit_vector(self, v: np.ndarray, y: np.ndarray) -> None:
        """Fit the vector blocks in turn on training window features."""
        for b in self.vector_blocks:
            b.fit(v, y)
            v = b.transform(v)

    def transform_vector(self, v: np.ndarray) -> np.ndarray:
        for b in self.vector_blocks:
            v = b.transform(v)
        return v.astype(np.float32)

    def fit(self, x: np.ndarray, y: np.ndarray) -> FeaturePipeline:
        for b in self.window_blocks:
            b.fit(x, y)
        self.fit_vector(self.window_features(x), y)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Reference features of windows ``(n, length, channels)`` → ``(n, k)``."""
        return self.transform_vector(self.window_features(x))

    def emit_c(self, prefix: str) -> tuple[str, tuple[str, ...]]:
        """Static block functions + ``int {prefix}_features(const float *w, float *f)``.

        Returns the C text and the system includes it needs. Intermediate vectors live
        on the stack of ``{prefix}_features``; the result goes to the caller's buffer.
        """
        P = prefix.upper()
        funcs: list[CFunction] = []
        body: list[str] = []
        n_win = self.n_window_outputs
        chained = bool(self.vector_blocks)
        dest = "stage0" if chained else "features"
        if chained:
            body.append(f"    float stage0[{n_win}];")
        offset = 0
        for i, b in enumerate(self.window_blocks):
            fn = b.emit_c(f"{prefix}_block{i}_{b.name}")
            funcs.append(fn)
            body.append(f"    {fn.name}(window, {dest} + {offset});")
            offset += b.n_outputs
        for j, b in enumerate(self.vector_blocks, start=len(self.window_blocks)):
            fn = b.emit_c(f"{prefix}_block{j}_{b.name}")
            funcs.append(fn)
            last = j == len(self.blocks) - 1
            src = f"stage{j - len(self.window_blocks)}"
            out = "features" if last else f"stage{j - len(self.window_blocks) + 1}"
            if not last:
                body.append(f"    float {out}[{b.n_outputs}];")
            body.append(f"    {fn.name}({src}, {out});")
        text = (
            "\n\n".join(f.code for f in funcs)
            + "\n\n"
            + "\n".join(
                [
                    f"int {prefix}_features(const float *window, float *features)",
                    "{",
                    f"    if (window == NULL || features == NULL) {{ return {P}_ERR_NULL; }}",
                    *body,
                    "    return 0;",
                    "}",
                ]
            )
        )
        includes = tuple(sorted({inc for f in funcs for inc in f.includes}))
        return text, includes

    def cost(self, core: CoreCosts) -> BlockCost:
        costs = [b.cost(core) for b in self.blocks]
        stages = [self.n_window_outputs] + [b.n_outputs for b in self.vector_blocks]
        buffers = 4 * (max(stages) + (min(stages) if len(stages) > 1 else 0))
        return BlockCost(
            flash_bytes=sum(c.flash_bytes for c in costs),
            sram_bytes=max([c.sram_bytes for c in costs] + [0])
            + (buffers if self.vector_blocks else 0),
            instructions=sum(c.instructions for c in costs),
        )
