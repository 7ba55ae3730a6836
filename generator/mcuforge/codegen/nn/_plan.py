"""Static memory plan: every activation and scratch buffer gets an offset in one arena.

A buffer lives from the step (operator, in execution order) that writes it to the last
step that reads it; two buffers may share bytes when their lifetimes do not overlap.
The lower bound of any plan is the largest sum of sizes of the buffers live at one
step. Two placements are tried and the smaller arena is kept:

* **two-ended**: when at most two tensors are live at every step (a sequential
  network), tensors alternate between the bottom and the top of the arena, and each
  step's scratch sits between them. This reaches the lower bound exactly.
* **greedy by size** (TFLite Micro's ``GreedyMemoryPlanner`` idea): largest buffer
  first, each at the lowest offset that does not collide with a placed buffer whose
  lifetime overlaps. Used for graphs with branches (skip connections, concatenation).

Sizes are rounded up to :data:`ALIGN` bytes so that every buffer starts 4-byte aligned.
"""

from __future__ import annotations

from dataclasses import dataclass

ALIGN = 4


def aligned(n: int) -> int:
    """``n`` rounded up to a multiple of :data:`ALIGN`."""
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Buffer:
    """One block of the arena: ``first``..``last`` are inclusive steps."""

    name: str
    size: int
    first: int
    last: int
    scratch: bool = False
    offset: int = -1

    def overlaps(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class Plan:
    """Offsets of all buffers, the arena size and the lower bound it was measured against."""

    offsets: dict[str, int]
    arena: int
    lower_bound: int
    strategy: str


def lower_bound(buffers: list[Buffer]) -> int:
    """Largest total size of the buffers live at one step."""
    if not buffers:
        return 0
    last = max(b.last for b in buffers)
    return max(sum(b.size for b in buffers if b.first <= s <= b.last) for s in range(last + 1))


def _two_ended(buffers: list[Buffer], bound: int) -> dict[str, int] | None:
    tensors = sorted((b for b in buffers if not b.scratch), key=lambda b: (b.first, b.last))
    side: dict[str, int] = {}
    for b in tensors:
        live = [o for o in tensors if o is not b and o.overlaps(b) and o.name in side]
        if len(live) > 1:
            return None
        side[b.name] = 1 - side[live[0].name] if live else 0
    for b in tensors:  # at most one tensor of each side at any step
        if any(o is not b and o.overlaps(b) and side[o.name] == side[b.name] for o in tensors):
            return None
    offsets = {b.name: 0 if side[b.name] == 0 else bound - b.size for b in tensors}
    for s in (b for b in buffers if b.scratch):
        bottom = [o for o in tensors if side[o.name] == 0 and o.overlaps(s)]
        top = [o for o in tensors if side[o.name] == 1 and o.overlaps(s)]
        lo = max((o.size for o in bottom), default=0)
        hi = min((offsets[o.name] for o in top), default=bound)
        if hi - lo < s.size:
            return None
        offsets[s.name] = lo
    return offsets


def _greedy(buffers: list[Buffer]) -> dict[str, int]:
    placed: list[tuple[Buffer, int]] = []
    offsets: dict[str, int] = {}
    for b in sorted(buffers, key=lambda b: (-b.size, b.first, b.name)):
        busy = sorted((off, off + o.size) for o, off in placed if o.overlaps(b))
        offset = 0
        for start, end in busy:
            if offset + b.size <= start:
                break
            offset = max(offset, end)
        placed.append((b, offset))
        offsets[b.name] = offset
    return offsets


def _check(buffers: list[Buffer], offsets: dict[str, int]) -> int:
    for i, a in enumerate(buffers):
        for b in buffers[i + 1 :]:
            if a.overlaps(b):
                oa, ob = offsets[a.name], offsets[b.name]
                if oa < ob + b.size and ob < oa + a.size:
                    raise AssertionError(f"memory plan overlaps {a.name} and {b.name}")
    return max((offsets[b.name] + b.size for b in buffers), default=0)


def plan(buffers: list[Buffer]) -> Plan:
    """Place ``buffers``; the result never overlaps two buffers that are live together."""
    for b in buffers:
        b.size = aligned(b.size)
    bound = lower_bound(buffers)
    candidates: list[tuple[int, str, dict[str, int]]] = []
    two = _two_ended(buffers, bound)
    if two is not None:
        candidates.append((_check(buffers, two), "two-ended", two))
    greedy = _greedy(buffers)
    candidates.append((_check(buffers, greedy), "greedy-by-size", greedy))
    arena, strategy, offsets = min(candidates, key=lambda c: c[0])
    return Plan(offsets, arena, bound, strategy)
