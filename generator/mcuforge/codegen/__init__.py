"""C writing: literals, arrays, integer types, the one escaping path for user text
(:mod:`.c`), and the int8 network emitter (:mod:`.nn`). The lowest code-generating
layer: feature blocks and model families write their C with it; the generated sources
of a whole candidate are assembled in :mod:`mcuforge.emit`."""

from .c import c_array, c_comment, c_float, c_identifier, c_string, smallest_int_type

__all__ = [
    "c_array",
    "c_comment",
    "c_float",
    "c_identifier",
    "c_string",
    "smallest_int_type",
]
