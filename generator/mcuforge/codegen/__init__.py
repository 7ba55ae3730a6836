"""C code generation: helpers and the assembly of the generated sources."""

from .c import c_array, c_float, smallest_int_type
from .sources import Provenance, emit_model, emit_test_vectors

__all__ = [
    "Provenance",
    "c_array",
    "c_float",
    "emit_model",
    "emit_test_vectors",
    "smallest_int_type",
]
