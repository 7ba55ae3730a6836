"""Every user string that reaches C goes through one escaping path, and cannot inject code.

The injection strings and a seeded fuzz batch of random Unicode/byte strings are put in
every field that lands in generated C (channel names, class labels, provenance: recipe,
target), the sources are compiled together with ``-Wall -Wextra -Werror -pedantic`` in
one build, and the program prints each string back: it must hold the exact bytes.
"""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import jinja2
import numpy as np
import pytest

from mcuforge.codegen.c import c_comment, c_identifier, c_string
from mcuforge.emit import Provenance, emit_model
from mcuforge.errors import OutputError
from mcuforge.features import FEATURES, FeaturePipeline
from mcuforge.hardware.host import build_and_run, host_compiler
from mcuforge.models import MODELS
from mcuforge.scaffold import CFilters

#: Strings an attacker or a careless data set would put in a name, a label or a unit.
INJECTIONS = [
    "gz */ typedef int injected_t; /*",
    "*/ #error injected /*",
    "line\nbreak",
    "cr\r\n#include <stdio.h>",
    "??/",
    "??=define injected 1",
    "what??!",
    'quote"; int injected_t; "',
    "trailing backslash\\",
    "back\\\nslash newline",
    "/* nested",
    "// line comment",
    "*",
    "/",
    "%s%n%x",
    "\x00nul inside",
    "\x1b[31mred\x7f\x01",
    "\u202eevil bidi\u202c",
    "caf\u00e9 \u20ac \U0001f600",
    "\ud800 lone surrogate",
    "$(reboot) ${HOME} `id`",
    "'single' 'quotes'",
    "tab\there",
    "\u2028line separator",
]


def _fuzz(n: int, seed: int = 16) -> list[str]:
    """Random strings mixing control bytes, comment and trigraph characters, and Unicode."""
    rng = random.Random(seed)
    pools = [
        [chr(c) for c in range(0, 32)] + ["\x7f"],
        list("*/?\\\"'#%$`{}()[];:,.!=&|<>~^ ") * 3,
        [chr(c) for c in range(0x21, 0x7F)],
        [chr(c) for c in range(0x80, 0x250)],
        ["\u202e", "\u2066", "\u200b", "\ufeff", "\u2028", "\ud800", "\udfff", "\U0001f4a9"],
    ]
    out = []
    for _ in range(n):
        length = rng.randint(0, 24)
        out.append("".join(rng.choice(rng.choice(pools)) for _ in range(length)))
    return out


CASES = INJECTIONS + _fuzz(40)


def _model() -> tuple[FeaturePipeline, object]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 8, 2)).astype(np.float32)
    y = np.arange(30) % 3
    x[:, :, 0] += y[:, None]
    block = FEATURES.get("stats")({"features": ["mean", "std"]}, 8, ["a", "b"], 10.0)
    pipe = FeaturePipeline([block]).fit(x, y)
    model = MODELS.get("decision_tree")().fit(pipe.transform(x), y, 3, {"max_depth": 2}, 0)
    return pipe, model


def _c_view(text: str) -> bytes:
    """What a C program sees of ``text`` through a char pointer: bytes up to a NUL."""
    return text.encode("utf-8", "surrogatepass").split(b"\0")[0]


_DUMP = """
static void dump(const char *s)
{
    while (*s != '\\0') { printf("%02x", (unsigned)(unsigned char)*s); ++s; }
    printf("\\n");
}
"""


def test_every_user_string_in_generated_c_compiles_pedantic_and_keeps_its_bytes() -> None:
    pipe, model = _model()
    files: dict[str, str] = {}
    expected: list[bytes] = []
    calls = []
    headers = []
    per_model = 5  # two channel names and three class labels
    for i in range(0, len(CASES), per_model):
        p = f"u{i}"
        texts = [CASES[(i + k) % len(CASES)] for k in range(per_model)]
        channels, classes = texts[:2], texts[2:]
        prov = Provenance(texts[0], "0" * 64, texts[1], i, texts[2])
        files.update(emit_model(p, pipe, model, classes, channels, 8, 10.0, prov))  # type: ignore[arg-type]
        headers.append(f'#include "{p}_model.h"')
        calls.append(
            f"    for (i = 0; i < {p.upper()}_N_CLASSES; ++i) {{ dump({p}_class_names[i]); }}\n"
            f"    for (i = 0; i < {p.upper()}_N_CHANNELS; ++i) {{ dump({p}_channel_names[i]); }}\n"
            f"    if ({p}_predict(window) < 0) {{ return 1; }}"
        )
        expected += [_c_view(s) for s in (*classes, *channels)]
    # the templates' path: the same functions as Jinja filters
    env = jinja2.Environment(extensions=[CFilters], undefined=jinja2.StrictUndefined)
    tpl = env.from_string(
        "/* {{ x | c_comment }} */\n// {{ x | c_comment }}\n"
        "static const char *const t{{ i }} = {{ x | c_string }};\n"
    )
    tpl_src = "".join(tpl.render(x=text, i=i) for i, text in enumerate(CASES))
    calls.append("\n".join(f"    dump(t{i});" for i in range(len(CASES))))
    expected += [_c_view(s) for s in CASES]
    files["main.c"] = (
        "#include <stdio.h>\n"
        + "\n".join(headers)
        + _DUMP
        + tpl_src
        + "int main(void)\n{\n    static const float window[8 * 2];\n    int i;\n"
        + "\n".join(calls)
        + "\n    return 0;\n}\n"
    )
    out = build_and_run(files, b"", extra_flags=["-O0"], what="escaping test")
    got = [bytes.fromhex(line) for line in out.decode().splitlines()]
    assert got == expected
    # no comment was closed early: with the comments stripped, nothing injected is left
    headers_text = "\n".join(t for name, t in files.items() if name.endswith("_model.h"))
    pre = subprocess.run(
        [host_compiler(), "-E", "-P", "-std=c99", "-"],
        input=headers_text,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "injected" not in pre and "#error" not in pre and "stdio" not in pre


@pytest.mark.parametrize("text", INJECTIONS)
def test_comment_text_is_one_inert_line(text: str) -> None:
    out = c_comment(text)
    assert out.isascii() and out.isprintable()
    assert "*/" not in out and "/*" not in out and "??" not in out
    assert not out.startswith(("/", "*")) and not out.endswith(("/", "*"))
    assert re.fullmatch(r"(?:[^\\]|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\\U[0-9a-f]{8})*", out)


@pytest.mark.parametrize("text", INJECTIONS)
def test_string_literal_is_printable_ascii_without_trigraphs(text: str) -> None:
    lit = c_string(text)
    assert lit.isascii() and lit.isprintable() and "??" not in lit
    assert lit.startswith('"') and lit.endswith('"')
    assert re.fullmatch(r'"(?:[^"\\?]|\\[0-7]{3}|\\[\\"?])*"', lit)


def test_too_long_literal_and_bad_identifiers_are_clear_errors() -> None:
    assert len(c_string("x" * 4095)) == 4097
    with pytest.raises(OutputError, match=r"channel name 'xxx.*4096 bytes long; C99"):
        c_string("x" * 4096, "channel name")
    for bad in ["", "9a", "a-b", "a b", "int", "_Upper", "__x", "a" * 41, "é"]:
        with pytest.raises(OutputError, match="prefix: "):
            c_identifier(bad, "prefix")
    assert c_identifier("wrist_activity") == "wrist_activity"


def test_codegen_has_no_other_escaping() -> None:
    """The one escaping path: no ad-hoc replace() of quotes or comment markers elsewhere."""
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*(root / "generator/mcuforge").rglob("*.py"), *(root / "templates").rglob("*")]:
        if path.is_file() and path.name != "c.py":
            # a path's backslashes made slashes (reading files, link maps) is not escaping
            text = path.read_text(errors="replace").replace('.replace("\\\\", "/")', "")
            if re.search(r"replace\(\s*['\"](\\\\\\\\|\\\\\"|\*/|/\*)", text):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_starter_spec_quotes_names_from_the_data(tmp_path: Path) -> None:
    """`mcuforge init` writes YAML: a column name cannot break out of its value."""
    from mcuforge._yaml import load_located
    from mcuforge.starter import starter_spec

    names = ["a, b]", "x: y", "#c", "true", "q\"'"]
    header = ",".join('"' + n.replace('"', '""') + '"' for n in names)
    for cls in ("one", "two"):
        (tmp_path / "data" / cls).mkdir(parents=True)
        rows = [header] + [",".join(str(i + j) for j in range(len(names))) for i in range(60)]
        (tmp_path / "data" / cls / "r.csv").write_text("\n".join(rows) + "\n")
    text = starter_spec(tmp_path / "data", tmp_path)
    spec, _ = load_located(text, "spec.yaml")
    assert [c for s in spec["data"]["sensors"] for c in s["channels"]] == names
