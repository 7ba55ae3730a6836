"""The feature block interface: Python reference, C emitter and cost."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..cost import CoreCosts
from ..params import ParamError, Params
from ._params import FeatureParamError


class BlockParams(Params):
    """Base of a feature block's parameter model (a block without parameters uses it as
    is). Each field: its type, default, static range and a one-line description."""


@dataclass(frozen=True)
class BlockCost:
    """Analytic cost of one block on one core."""

    flash_bytes: int  # code + constants
    sram_bytes: int  # stack + scratch used while the block runs
    instructions: int  # executed per window


@dataclass(frozen=True)
class BlockCase:
    """One configuration the conformance suite (:mod:`mcuforge.testing`) checks a block in:
    its parameters and the window it runs on (vector blocks get statistics first)."""

    params: dict[str, Any] = field(default_factory=dict)
    length: int = 128
    channels: tuple[str, ...] = ("x", "y", "z")
    rate_hz: float = 50.0


@dataclass(frozen=True)
class CFunction:
    """A C function emitted by a block: ``void NAME(const float *in, float *out)``."""

    name: str
    code: str
    includes: tuple[str, ...] = ()


class FeatureBlock(ABC):
    """One step of feature extraction.

    Contract:
        * ``input == "window"`` blocks read the raw window, float32 ``(n, length,
          channels)``, interleaved in C as ``x[t * channels + c]``; the outputs of all
          window blocks are concatenated. ``input == "vector"`` blocks (projections,
          standardisation) then run in order, each on the previous vector ``(n, k)``.
        * ``fit`` learns what the block needs from training data (PCA basis, scaling);
          it is called before ``transform`` and is a no-op for stateless blocks.
        * ``transform`` is the reference: the emitted C computes the same float32
          values bit for bit (same operations in the same order, no FMA contraction),
          or within the tolerance the block states in ``tolerance``.
        * ``emit_c`` writes one ``static`` function with no dynamic memory; scratch
          buffers are local arrays (on the stack, so measured as stack).
        * ``cost`` is analytic and cheap; measured cost comes from compiling the C.
        * ``Params`` declares every parameter (a :class:`BlockParams` model: unknown
          keys refused, each key typed, ranged, described, with its default); the
          block reads ``self.config``, the validated parameters, and checks in
          ``__init__`` only what depends on the window length, channels or rate. Recipe
          ``block.param`` keys are checked against it when the catalog loads.
    """

    name: ClassVar[str]
    input: ClassVar[str] = "window"
    #: max |C - Python| / (1 + |Python|) this block guarantees; 0.0 means bit-exact.
    tolerance: ClassVar[float] = 0.0
    Params: ClassVar[type[BlockParams]] = BlockParams

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        self.params = params
        self.config = self.parse_params(params)
        self.length = length
        self.channels = channels
        self.rate_hz = rate_hz

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> BlockParams:
        """``raw`` (a recipe's ``block.param`` values) validated into ``Params``.

        Raises:
            FeatureParamError: an unknown key (with the closest known one), or a value of
                the wrong type or outside its static range.
        """
        try:
            return cls.Params.read(raw, cls.name)
        except ParamError as exc:
            raise FeatureParamError(str(exc)) from None

    @property
    @abstractmethod
    def feature_names(self) -> list[str]:
        """Name of each output, e.g. ``ax.mean``."""

    @property
    def n_outputs(self) -> int:
        return len(self.feature_names)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Shape of one output, e.g. ``(frames, n_mfcc)``; flat in memory (row-major)."""
        return (self.n_outputs,)

    @classmethod
    def conformance_cases(cls) -> list[BlockCase]:
        """Configurations :class:`mcuforge.testing.FeatureBlockSuite` checks this block in
        (default: its default parameters on a 128-sample, 3-channel window at 50 Hz)."""
        return [BlockCase()]

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Learn parameters from training inputs (window or vector) and labels."""

    @abstractmethod
    def transform(self, x: np.ndarray) -> np.ndarray:
        """Reference implementation: float32 (n, length, channels) → float32 (n, k)."""

    @abstractmethod
    def emit_c(self, fn_name: str) -> CFunction:
        """C99 source of ``static void fn_name(const float *x, float *out)``.

        ``x`` is the window (window blocks) or the previous vector (vector blocks).
        """

    @abstractmethod
    def cost(self, core: CoreCosts) -> BlockCost:
        """Analytic flash, SRAM and instruction count."""
