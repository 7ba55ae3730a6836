"""A corpus of malformed specs, catalogs and locks: each one located line, nothing written.

Every case is run through ``mcuforge validate`` (in process) twice, as text and as
``--json``: the text is exactly one line ``FILE:LINE:COL: FIELD: MESSAGE`` matching the
expectation, the exit code is 2 (3 when nothing can fit), there is no traceback, the
JSON lists the same problem with its line, and no file changes anywhere (validate runs
every check generate runs before reading the data, and writes nothing).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from mcuforge.cli import cli

from .conftest import EXAMPLE, ROOT

BASE = """\
version: 1
name: demo
data:
  format: csv
  path: {data}
  sensors:
    - {{name: accel, channels: [ax, ay, az], unit: g, rate_hz: 10}}
    - {{name: gyro, channels: [gx, gy, gz], unit: dps, rate_hz: 10}}
  window: {{length_s: 10, stride_s: 10}}
  split: {{test_files: ["*/test_*.csv"], seed: 1}}
task: {{kind: classification, metric: accuracy}}
target: nrf52840
budgets: {{sram_kb: 4, flash_kb: 16, latency_ms: 5}}
search: {{trials: 2, seed: 3}}
recipe: imu-stats-tree
hardware: {{profiler: auto}}
output: {{dir: out, firmware: cmake-baremetal, test_windows: 4}}
"""

BOMB = "".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for p, k in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)

TARGET = """\
version: 1
name: mine
core: cortex-m4f
clock_mhz: 64
sram_kb: 64
flash_kb: 256
boards: {platformio: nrf52840_dk}
"""

RECIPE = """\
name: my-tree
version: 1
description: A tree.
applies: {task: [classification], modality: [imu, timeseries]}
pipeline: {features: [stats], model: decision_tree}
search:
  space:
    max_depth: {int: [2, 6]}
"""

CORES = """\
version: 1
cores:
  cortex-m4f:
    gcc_flags: -mcpu=cortex-m4 -mthumb
    cpi: 1.2
    float_op_instructions: 1
    float_div_instructions: 14
"""


def _sub(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new)

    return edit


def _deep(levels: int) -> str:
    return "deep:\n" + "".join("  " * i + "k:\n" for i in range(1, levels)) + "  " * levels + "1\n"


# (id, edit of the spec text, extra files {relative path: text}, expected regex)
SPEC_CASES: list[tuple[str, Callable[[str], str], dict[str, str], str]] = [
    # ------------------------------------------------------------ YAML itself
    ("alias-bomb", lambda s: s + BOMB, {}, r"spec.yaml:2\d:4: \w: aliases expand this document"),
    ("recursive-alias", lambda s: s + "x: &a [*a]\n", {}, r"spec.yaml:18:4: x.0: recursive alias"),
    (
        "python-tag",
        _sub("name: demo", "name: !!python/object/apply:os.system [echo hi]"),
        {},
        r"spec.yaml:2:7: name: tag 'python/object/apply:os.system' is not allowed",
    ),
    ("binary-tag", _sub("name: demo", "name: !!binary ZGVtbw=="), {}, r"2:7: name: tag 'binary'"),
    ("local-tag", _sub("name: demo", "name: !secret demo"), {}, r"2:7: name: tag '!secret'"),
    (
        "timestamp-stays-a-string",
        _sub("name: demo", "name: 2024-01-01"),
        {},
        r"2:7: name: '2024-01-01' is not a valid C identifier",
    ),
    ("bad-int", _sub("trials: 2", "trials: !!int two"), {}, r"14:\d+: search.trials: cannot read"),
    ("duplicate-key", lambda s: s + "budgets: {sram_kb: 1}\n", {}, r"18:1: budgets: duplicate"),
    ("control-char", _sub("name: demo", "name: de\x07mo"), {}, r"2:9: character U\+0007"),
    ("two-documents", lambda s: s + "---\nname: x\n", {}, r"18:1: YAML syntax error: expected a"),
    ("tab-indent", _sub("  format: csv", "\tformat: csv"), {}, r"spec.yaml:\d+:\d+: YAML syntax"),
    (  # reported at the bracket left open, not where YAML noticed (the next line)
        "unclosed-flow",
        _sub("metric: accuracy}", "metric: accuracy"),
        {},
        r"11:7: YAML syntax error: the `\{` opened here is not closed: a `\}` .* line 12, col",
    ),
    (  # a bracket over several lines, closed, an item without its comma: where it is
        "flow-missing-comma",
        _sub(
            "  sensors:\n",
            "  sensors: [\n      {name: t, channels: [t1]},\n      {name: u, channels: [u1]}\n"
            "      {name: v, channels: [v1]}\n    ]\n  other:\n",
        ),
        {},
        r"spec.yaml:9:7: YAML syntax error: while parsing a flow sequence, did not find",
    ),
    ("deep-nesting", lambda s: s + _deep(70), {}, r"spec.yaml:\d+:\d+: deep(\.k)+: nested deeper"),
    ("complex-key", lambda s: s + "? [a, b]\n: 1\n", {}, r"18:3: mapping keys must be plain"),
    ("empty-file", lambda s: "", {}, r"spec.yaml:1:1: a spec is a YAML mapping"),
    ("list-document", lambda s: "- 1\n- 2\n", {}, r"spec.yaml:1:1: a spec is a YAML mapping"),
    # ------------------------------------------------------------ ranges
    (
        "huge-seed",
        _sub("seed: 3", "seed: 99999999999999999999999"),
        {},
        r"spec.yaml:14:\d+: search.seed: Input should be less than or equal to 2147483647",
    ),
    ("negative-seed", _sub("seed: 3", "seed: -1"), {}, r"14:\d+: search.seed: .*greater than or"),
    (
        "huge-split-seed",
        _sub("seed: 1}", "seed: 4294967296}"),
        {},
        r"10:\d+: data.split.seed: Input should be less than",
    ),
    ("too-many-trials", _sub("trials: 2", "trials: 1000000000"), {}, r"14:\d+: search.trials: "),
    ("zero-trials", _sub("trials: 2", "trials: 0"), {}, r"14:\d+: search.trials: .*greater than"),
    (
        "infinite-timeout",
        _sub("seed: 3}", "seed: 3, time_budget: .inf}"),
        {},
        r"14:\d+: search.time_budget: .inf is not a duration|search.time_budget: .*a week",
    ),
    ("nan-budget", _sub("sram_kb: 4", "sram_kb: .nan"), {}, r"13:\d+: budgets.sram_kb: .*finite"),
    ("negative-budget", _sub("flash_kb: 16", "flash_kb: -1"), {}, r"budgets.flash_kb: .*greater"),
    (
        "budget-with-unit",
        _sub("latency_ms: 5", "latency_ms: 5ms"),
        {},
        r"13:\d+: budgets.latency_ms: .*valid number.*'5ms'.*plain number",
    ),
    ("too-many-folds", _sub("seed: 3}", "seed: 3, folds: 11}"), {}, r"search.folds: .*less than"),
    ("too-many-jobs", _sub("seed: 3}", "seed: 3, jobs: 1000}"), {}, r"search.jobs: .*less than"),
    ("zero-test-windows", _sub("test_windows: 4", "test_windows: 0"), {}, r"17:\d+: output.test"),
    (
        "huge-baudrate",
        _sub("profiler: auto}", "profiler: auto, baudrate: 1000000000000}"),
        {},
        r"16:\d+: hardware.baudrate: .*less than",
    ),
    (
        "huge-window",
        _sub("{length_s: 10, stride_s: 10}", "{length: 1000000000}"),
        {},
        r"9:\d+: data.window.length: Input should be less than",
    ),
    # ------------------------------------------------------------ names, with suggestions
    (
        "template-typo",
        _sub("firmware: cmake-baremetal", "firmware: platfromio"),
        {},
        r"spec.yaml:17:\d+: output.firmware: unknown firmware template 'platfromio'; did you "
        r"mean 'platformio'\?",
    ),
    ("kind-typo", _sub("kind: classification", "kind: clasification"), {}, r"did you mean 'clas"),
    ("format-typo", _sub("format: csv", "format: csvv"), {}, r"4:\d+: data.format: .*'csv'\?"),
    (
        "strategy-typo",
        _sub("seed: 3}", "seed: 3, strategy: tpee}"),
        {},
        r"14:\d+: search.strategy: .*did you mean 'tpe'\?",
    ),
    ("metric-typo", _sub("metric: accuracy", "metric: acuracy"), {}, r"did you mean 'accuracy'"),
    ("key-typo", _sub("budgets:", "budget:"), {}, r"13:1: budget: unknown key .*'budgets'\?"),
    ("nested-key-typo", _sub("trials: 2", "trails: 2"), {}, r"14:\d+: search.trails: .*'trials'"),
    (
        "core-typo",
        _sub(
            "target: nrf52840",
            "target: {core: cortex-m4ff, clock_mhz: 64, sram_kb: 64, flash_kb: 256}",
        ),
        {},
        r"12:\d+: target.core: .*did you mean 'cortex-m4f'\?",
    ),
    (
        "unknown-target",
        _sub("target: nrf52840", "target: nrf52480"),
        {},
        r"spec.yaml:12:9: target: unknown target 'nrf52480'; did you mean nrf52840",
    ),
    (
        "unknown-recipe",
        _sub("recipe: imu-stats-tree", "recipe: imu-stats-forrest"),
        {},
        r"spec.yaml:15:9: recipe: unknown recipe 'imu-stats-forrest'; did you mean "
        r"imu-stats-forest",
    ),
    (
        "unknown-recipe-version",
        _sub("recipe: imu-stats-tree", "recipe: imu-stats-tree@9"),
        {},
        r"15:9: recipe: recipe 'imu-stats-tree' has no version 9",
    ),
    (
        "unknown-recipe-in-mapping",
        _sub("recipe: imu-stats-tree", "recipe: {name: imu-stat-tree}"),
        {},
        r"15:\d+: recipe.name: unknown recipe 'imu-stat-tree'; did you mean",
    ),
    # ------------------------------------------------------------ other field rules
    ("injected-name", _sub("name: demo", 'name: "gz */ int x; /*"'), {}, r"2:7: name: .*not a"),
    ("reserved-name", _sub("name: demo", "name: int"), {}, r"2:7: name: 'int' is reserved in C"),
    ("underscore-name", _sub("name: demo", "name: _x"), {}, r"2:7: name: '_x' is reserved in C"),
    (  # the runtime's own prefix: the firmware build failed after the whole search
        "runtime-name",
        _sub("name: demo", "name: mcuforge"),
        {},
        r"2:7: name: 'mcuforge' clashes with the firmware runtime's own names",
    ),
    (
        "long-prefix",
        _sub("dir: out,", f"dir: out, prefix: {'p' * 41},"),
        {},
        r"17:\d+: output.prefix: .*longer than 40",
    ),
    ("duplicate-channel", _sub("[gx, gy, gz]", "[gx, gy, ax]"), {}, r"data.sensors: channel"),
    ("empty-channel", _sub("[gx, gy, gz]", '[gx, gy, ""]'), {}, r"data.sensors: a channel name is"),
    (
        "duplicate-sensor",
        _sub("name: gyro", "name: accel"),
        {},
        r"sensor names appear twice: accel",
    ),
    (  # pad_with was ignored without fit: pad
        "pad-with-resample",
        _sub("stride_s: 10}", "stride_s: 10, short: whole, pad_with: 0}"),
        {},
        r"`pad_with` needs `short: pad` \(or `short: whole, fit: pad`\)",
    ),
    ("two-rates", _sub("dps, rate_hz: 10", "dps, rate_hz: 20"), {}, r"data.sensors: sensors have"),
    (
        "objectives-order",
        _sub("seed: 3}", "seed: 3, objectives: [latency]}"),
        {},
        r"search.objectives: objectives start with `score`",
    ),
    ("version-2", _sub("version: 1", "version: 2"), {}, r"spec.yaml:1:10: version: Input should"),
    (
        "device-without-port",
        _sub("profiler: auto", "profiler: device"),
        {},
        r"16:\d+: hardware: `profiler: device` needs `port`",
    ),
    (
        "storage-not-a-url",
        _sub("seed: 3}", 'seed: 3, storage: "not a url"}'),
        {},
        r"14:\d+: search.storage: not a database URL",
    ),
    (
        "inline-target-name",
        _sub(
            "target: nrf52840",
            "target: {name: My Board, core: cortex-m4f, clock_mhz: 64, sram_kb: 64, flash_kb: 256}",
        ),
        {},
        r"12:\d+: target.name: String should match pattern",
    ),
    # ------------------------------------------------------------ against the catalog
    (
        "recipe-does-not-apply",
        _sub("recipe: imu-stats-tree", "recipe: audio-mfcc-dscnn"),
        {},
        r"15:9: recipe: recipe audio-mfcc-dscnn@1 cannot be used: it is for audio data",
    ),
    (
        "override-inverted-range",
        _sub(
            "recipe: imu-stats-tree",
            "recipe: {name: imu-stats-tree, overrides: {space: {max_depth: {int: [9, 2]}}}}",
        ),
        {},
        r"15:\d+: recipe.overrides.space.max_depth: range \[9, 2\] is inverted",
    ),
    (
        "budget-over-the-part",
        _sub("sram_kb: 4,", "sram_kb: 4, app_sram_kb: 300,"),
        {},
        r"spec.yaml:13:\d+: budgets.sram_kb: SRAM for the model \(304 kB with the application",
    ),
    (
        "flash-over-the-part",
        _sub("flash_kb: 16", "flash_kb: 5000"),
        {},
        r"13:\d+: budgets.flash_kb: flash for the model \(5000 kB",
    ),
    (
        "nothing-fits",
        lambda s: s.replace("flash_kb: 16", "flash_kb: 0.01").replace(
            "recipe: imu-stats-tree", "recipe: auto"
        ),
        {},
        r"spec.yaml:13:\d+: budgets: no recipe fits the budgets even at its smallest",
    ),
    (
        "pinned-recipe-cannot-fit",
        _sub("flash_kb: 16", "flash_kb: 0.01"),
        {},
        r"spec.yaml:13:\d+: budgets: recipe imu-stats-tree@1 cannot fit the budgets even at "
        r"its smallest configuration: the firmware with its smallest model needs .* kB flash "
        r"> budget 0.01 kB",
    ),
    (
        "template-cannot-serve-target",
        lambda s: s.replace("target: nrf52840", "target: nrf5340").replace(
            "firmware: cmake-baremetal", "firmware: arduino"
        ),
        {},
        r"17:\d+: output.firmware: template 'arduino' cannot be used for target 'nrf5340'"
        r".*Templates that support 'nrf5340': cmake-baremetal, zephyr",
    ),
    (
        "missing-data-path",
        _sub("path: {data}".format(data=EXAMPLE / "data"), "path: no/such/data"),
        {},
        r"spec.yaml:5:9: data.path: .*no/such/data does not exist",
    ),
    (
        "missing-catalog",
        lambda s: s + "catalogs: [no-such-catalog]\n",
        {},
        r"spec.yaml:18:12: catalogs.0: catalog folder .*no-such-catalog does not exist",
    ),
    (
        "missing-calibration",
        _sub("profiler: auto}", "profiler: auto, calibration: nope.json}"),
        {},
        r"16:\d+: hardware.calibration: cannot read calibration .*nope.json",
    ),
    (
        "bad-calibration",
        _sub("profiler: auto}", "profiler: auto, calibration: cal.json}"),
        {"cal.json": "{not json"},
        r"16:\d+: hardware.calibration: .*cal.json:1: not JSON",
    ),
    # ------------------------------------------------------------ where the output goes
    (
        "output-is-spec-folder",
        _sub("dir: out,", "dir: .,"),
        {},
        r"17:\d+: output.dir: .*is an input",
    ),
    (
        "output-contains-spec",
        _sub("dir: out,", "dir: ..,"),
        {},
        r"17:\d+: output.dir: the output folder .* contains .*spec.yaml, an input",
    ),
    (
        "output-inside-data",
        _sub("dir: out,", "dir: {data}/out,".format(data=EXAMPLE / "data")),
        {},
        r"17:\d+: output.dir: .* lies inside .*data, an input folder",
    ),
    (
        "output-inside-catalog",
        lambda s: s.replace("dir: out,", "dir: cat/out,") + "catalogs: [cat]\n",
        {"cat/README": "my catalog\n"},
        r"17:\d+: output.dir: .* lies inside .*cat, an input folder",
    ),
    (
        "output-is-a-file",
        _sub("dir: out,", "dir: notes.txt,"),
        {"notes.txt": "mine\n"},
        r"17:\d+: output.dir: output .*notes.txt exists and is not a directory",
    ),
    # ------------------------------------------------------------ the lock beside the spec
    (
        "lock-bad-recipe-entry",
        lambda s: s,
        {"mcuforge.lock": "version: 1\nrecipes:\n  - {name: imu-stats-tree}\n"},
        r"mcuforge.lock:3:5: recipes.0: must be \{name: NAME, version: NUMBER",
    ),
    ("lock-alias-bomb", lambda s: s, {"mcuforge.lock": "version: 1\n" + BOMB}, r"lock:\d+:4: "),
    (
        "lock-wrong-version",
        lambda s: s,
        {"mcuforge.lock": "version: 7\n"},
        r"mcuforge.lock:1:10: version: not an mcuforge lock of version 1; run "
        r"`mcuforge lock --update \S*spec.yaml` to rewrite it",
    ),
    (
        "lock-pins-missing-version",
        _sub("recipe: imu-stats-tree", "recipe: auto"),
        {"mcuforge.lock": "version: 1\nrecipes:\n  - {name: imu-stats-tree, version: 7}\n"},
        r"mcuforge.lock:3:37: recipes.0.version: recipe 'imu-stats-tree' has no version 7.*"
        "the lock pins it",
    ),
    # ------------------------------------------------------------ a user catalog
    (
        "catalog-target-core-typo",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/targets/mine.yaml": TARGET.replace("cortex-m4f", "cortex-m4ff")},
        r"mine.yaml:3:7: core: .*did you mean 'cortex-m4f'\?",
    ),
    (
        "catalog-board-injection",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/targets/mine.yaml": TARGET.replace("nrf52840_dk", '"nrf\\"; rm -rf /"')},
        r"mine.yaml:7:\d+: boards: board .* may hold only letters",
    ),
    (
        "catalog-board-framework-typo",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/targets/mine.yaml": TARGET.replace("{platformio:", "{platfromio:")},
        r"mine.yaml:7:\d+: boards: unknown framework 'platfromio'; did you mean 'platformio'",
    ),
    (
        "catalog-gcc-flags-injection",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/cores.yaml": CORES.replace("-mthumb", '-mthumb")\\nexecute_process(rm)"')},
        r"cores.yaml:4:\d+: cores.cortex-m4f.gcc_flags: String should match pattern",
    ),
    (
        "catalog-qemu-injection",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/cores.yaml": CORES + "    qemu_machine: 'mps2; reboot'\n"},
        r"cores.yaml:8:\d+: cores.cortex-m4f.qemu_machine: String should match pattern",
    ),
    (
        "catalog-qemu-machine-unknown",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/cores.yaml": CORES + "    qemu_machine: mps2-an999\n"},
        r"cores.yaml:8:19: cores.cortex-m4f.qemu_machine: 'mps2-an999' is not in "
        r"qemu_machines \(known: .*mps2-an386.*\); add it",
    ),
    (
        "catalog-infinite-clock",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/targets/mine.yaml": TARGET.replace("clock_mhz: 64", "clock_mhz: .inf")},
        r"mine.yaml:4:12: clock_mhz: Input should be a finite number",
    ),
    (
        "catalog-target-misnamed",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/targets/other.yaml": TARGET},
        r"other.yaml:1:1: name: target 'mine' must live in mine.yaml",
    ),
    (
        "catalog-recipe-bomb",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + BOMB},
        r"my-tree.yaml:\d+:4: \w: aliases expand",
    ),
    (
        "catalog-recipe-python-tag",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE.replace("A tree.", "!!python/name:os.system")},
        r"my-tree.yaml:3:14: description: tag 'python/name:os.system' is not allowed",
    ),
    (
        "catalog-recipe-bad-name",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE.replace("name: my-tree", "name: My Tree")},
        r"my-tree.yaml:1:7: name: String should match pattern",
    ),
    (
        "catalog-recipe-inverted-range",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE.replace("[2, 6]", "[6, 2]")},
        r"my-tree.yaml:8:16: search.space.max_depth: range \[6, 2\] is inverted",
    ),
    (
        "catalog-recipe-task-typo",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE.replace("[classification]", "[clasification]")},
        r"my-tree.yaml:4:18: applies.task.0: .*did you mean 'classification'\?",
    ),
    (
        "catalog-recipe-twice",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE, "cat/my-tree-copy.yaml": RECIPE},
        r"my-tree.yaml:1:1: version: recipe my-tree@1 is also defined in .*my-tree-copy.yaml",
    ),
    (
        "catalog-not-utf8",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE.replace("A tree.", "A tr\udce9e.")},
        r"my-tree.yaml:3:\d+: not UTF-8 text \(byte 0xe9\)",
    ),
    # ------------------------------------------------------------ recipe parameters
    (
        "recipe-param-typo",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE.replace("max_depth:", "max_dept:")},
        r"my-tree.yaml:8:5: search.space.max_dept: decision_tree has no parameter 'max_dept'; "
        r"did you mean 'max_depth'\?$",
    ),
    (
        "recipe-forest-typo",
        lambda s: s + "catalogs: [cat]\n",
        {
            "cat/my-tree.yaml": RECIPE.replace("model: decision_tree", "model: random_forest")
            + "    n_estimator: {int: [1, 3]}\n"
        },
        r"my-tree.yaml:9:5: search.space.n_estimator: random_forest has no parameter "
        r"'n_estimator'; did you mean 'n_estimators'\?$",
    ),
    (
        "recipe-range-end",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE.replace("[2, 6]", "[0, 6]")},
        r"my-tree.yaml:8:23: search.space.max_depth: decision_tree.max_depth must be >= 1, "
        r"got 0 \(the range's low end\)$",
    ),
    (
        "recipe-range-type",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE.replace("{int: [2, 6]}", "{float: [2.0, 6.5]}")},
        r"my-tree.yaml:8:\d+: search.space.max_depth: decision_tree.max_depth must be an "
        r"integer, got 2.0 \(the range's low end\)$",
    ),
    (
        "recipe-choice-value",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + "    layout: {choice: [inline, nested]}\n"},
        r"my-tree.yaml:9:31: search.space.layout: decision_tree.layout must be one of inline, "
        r"table, got 'nested'$",
    ),
    (
        "recipe-fixed-value",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + "  fixed:\n    min_samples_leaf: 0\n"},
        r"my-tree.yaml:10:23: search.fixed.min_samples_leaf: decision_tree.min_samples_leaf "
        r"must be >= 1, got 0$",
    ),
    (
        "recipe-block-param-typo",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + "    stats.featurs: {subset: [mean, std]}\n"},
        r"my-tree.yaml:9:5: search.space.stats.featurs: stats has no parameter 'featurs'; did "
        r"you mean 'features'\?$",
    ),
    (
        "recipe-block-not-in-pipeline",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + "    spectral.bands: {choice: [4, 8]}\n"},
        r"my-tree.yaml:9:5: search.space.spectral.bands: 'spectral' is not a feature block of "
        r"this recipe \(nor augment\); its blocks are stats, augment$",
    ),
    (
        "recipe-block-value",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + "    stats.features: {subset: [mean, median]}\n"},
        r"my-tree.yaml:9:30: search.space.stats.features: stats.features must be a non-empty "
        r"subset of \[mean, .*\]; unknown: median$",
    ),
    (
        "recipe-block-key-without-block",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + "    numeric: {choice: [float32, int16]}\n"},
        r"my-tree.yaml:9:5: search.space.numeric: decision_tree has no parameter 'numeric'; "
        r"did you mean 'stats.numeric'\? \(a feature block's parameters are written",
    ),
    (
        "recipe-augment-typo",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + "    augment.copy: {choice: [0, 2]}\n"},
        r"my-tree.yaml:9:5: search.space.augment.copy: augment has no parameter 'copy'; did "
        r"you mean 'copies'\?$",
    ),
    (
        "recipe-augment-value",
        lambda s: s + "catalogs: [cat]\n",
        {"cat/my-tree.yaml": RECIPE + "    augment.noise: {float: [0.0, 2.0]}\n"},
        r"my-tree.yaml:9:34: search.space.augment.noise: augment.noise must be in \[0, 1\], "
        r"got 2.0 \(the range's high end\)$",
    ),
    (
        "override-param-typo",
        _sub(
            "recipe: imu-stats-tree",
            "recipe: {name: imu-stats-tree, overrides: {space: {max_dept: {int: [2, 4]}}}}",
        ),
        {},
        r"spec.yaml:15:52: recipe.overrides.space.max_dept: decision_tree has no parameter "
        r"'max_dept'; did you mean 'max_depth'\?$",
    ),
    (
        "override-fixed-value",
        _sub(
            "recipe: imu-stats-tree",
            "recipe: {name: imu-stats-tree, overrides: {fixed: {stats.numeric: int8}}}",
        ),
        {},
        r"spec.yaml:15:67: recipe.overrides.fixed.stats.numeric: stats.numeric must be one of "
        r"float32, int16, got 'int8'$",
    ),
    (
        "override-fixed-type",
        _sub(
            "recipe: imu-stats-tree",
            "recipe: {name: imu-stats-tree, overrides: {fixed: {max_depth: '4'}}}",
        ),
        {},
        r"spec.yaml:15:63: recipe.overrides.fixed.max_depth: decision_tree.max_depth must be an "
        r"integer, got '4'$",
    ),
    (
        "override-choice-value",
        _sub(
            "recipe: imu-stats-tree",
            "recipe: {name: imu-stats-tree, overrides: {space: {layout: {choice: [table, tree]}}}}",
        ),
        {},
        r"spec.yaml:15:\d+: recipe.overrides.space.layout: decision_tree.layout must be one of "
        r"inline, table, got 'tree'$",
    ),
]


def _snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for root in roots
        for p in [root, *root.rglob("*")]
    }


def _invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


@pytest.mark.parametrize(
    ("edit", "files", "expected"),
    [pytest.param(e, f, x, id=i) for i, e, f, x in SPEC_CASES],
)
def test_malformed_input_is_one_located_line_and_writes_nothing(
    tmp_path: Path, edit: Callable[[str], str], files: dict[str, str], expected: str
) -> None:
    spec = tmp_path / "spec.yaml"
    text = edit(BASE.format(data=EXAMPLE / "data"))
    spec.write_bytes(text.encode("utf-8", "surrogateescape"))
    for rel, body in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(body.encode("utf-8", "surrogateescape"))
    before = _snapshot(tmp_path, EXAMPLE)

    code, out, err = _invoke("validate", str(spec))
    assert code in (2, 3), out + err
    lines = (out + err).strip().splitlines()
    assert len(lines) == 1, lines
    assert re.match(r"^(error: )?\S+:\d+:\d+: ", lines[0]) or "mcuforge.lock: " in lines[0]
    assert re.search(expected, lines[0]), lines[0]
    assert "Traceback" not in out + err

    code_j, out_j, _ = _invoke("validate", "--json", str(spec))
    assert code_j == code
    report = json.loads(out_j)
    assert report["ok"] is False and len(report["errors"]) == 1
    error = report["errors"][0]
    assert error["message"] in lines[0] and error["file"] in lines[0]
    assert _snapshot(tmp_path, EXAMPLE) == before


def test_corpus_is_large_enough() -> None:
    assert len(SPEC_CASES) >= 60


def test_several_independent_problems_are_reported_together(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        BASE.format(data="no/data")
        .replace("target: nrf52840", "target: nrf52480")
        .replace("firmware: cmake-baremetal", "firmware: zephr")
    )
    code, out, err = _invoke("validate", "--json", str(spec))
    assert code == 2
    fields = {e["field"] for e in json.loads(out)["errors"]}
    assert fields == {"target", "data.path"}  # the template needs the target to be checked
    code, out, err = _invoke("validate", str(spec))
    assert len((out + err).strip().splitlines()) == 2
    # nothing fits the budgets, and the template cannot build for the part: both at once
    # (the template was checked only once the budgets fitted)
    spec.write_text(
        BASE.format(data=EXAMPLE / "data")
        .replace("target: nrf52840", "target: atmega328p")
        .replace("sram_kb: 4", "sram_kb: 0.5")
        .replace("recipe: imu-stats-tree", "recipe: auto")
    )
    code, out, err = _invoke("validate", "--json", str(spec))
    assert code == 2
    assert {e["field"] for e in json.loads(out)["errors"]} == {"budgets", "output.firmware"}


def test_validate_json_ok(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE.format(data=EXAMPLE / "data"))
    code, out, _ = _invoke("validate", "--json", str(spec))
    assert code == 0
    got = json.loads(out)
    assert {k: got[k] for k in ("ok", "target", "recipes")} == {
        "ok": True,
        "target": "nrf52840",
        "recipes": ["imu-stats-tree@1"],
    }
    # the data check's warnings: this spec calls the example's accelerometer `g`
    assert all(isinstance(w, str) for w in got["warnings"])


def test_output_flag_inside_the_data_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE.format(data=EXAMPLE / "data"))
    res = CliRunner().invoke(
        cli, ["generate", str(spec), "-o", str(EXAMPLE / "data" / "walking"), "--no-measure"]
    )
    assert res.exit_code == 2
    assert re.fullmatch(
        r"error: -o/--out: the output folder .*walking lies inside .*data, an input folder of "
        r"this run; choose a folder outside it\n",
        res.output,
    ), res.output


def test_catalog_validate_locates_unknown_registry_names(tmp_path: Path) -> None:
    (tmp_path / "my-tree.yaml").write_text(
        textwrap.dedent(RECIPE).replace("model: decision_tree", "model: desicion_tree")
    )
    code, out, err = _invoke("catalog", "validate", str(tmp_path))
    assert code == 2
    assert re.search(
        r"my-tree.yaml:5:\d+: pipeline.model: unknown model family 'desicion_tree'; did you "
        r"mean 'decision_tree'\?",
        out + err,
    )


def test_catalog_validate_checks_a_core_table(tmp_path: Path) -> None:
    """A core's unknown profiler or unicorn model passed `catalog validate` and failed
    after the search (a traceback for the unicorn model)."""
    table = (ROOT / "recipes" / "cores.yaml").read_text()
    (tmp_path / "cores.yaml").write_text(
        table.replace("unicorn_cpu: CORTEX_M4", "unicorn_cpu: CORTEX_M99", 1)
    )
    code, out, err = _invoke("catalog", "validate", str(tmp_path))
    assert code == 2
    assert re.search(r"cores.yaml:\d+:\d+: cores\.\S+\.unicorn_cpu: Input should be", out + err)
    text = table.replace("profilers: [", "profilers: [emulatd, ", 1)
    (tmp_path / "cores.yaml").write_text(text)
    code, out, err = _invoke("catalog", "validate", str(tmp_path))
    assert code == 2
    assert re.search(r"cores.yaml:\d+:\d+: \S*profilers\.0: unknown profiler 'emulatd'", out + err)


def test_catalog_validate_refuses_a_recipe_that_shadows_another_of_its_version(
    tmp_path: Path,
) -> None:
    """A recipe of one's own with a built-in one's name and version replaced it silently;
    a target whose flash origin cannot hold the vector table generated firmware that
    cannot boot."""
    text = (ROOT / "recipes" / "imu-stats-tree.yaml").read_text()
    (tmp_path / "mine.yaml").write_text(text + "\n# a copy\n")
    code, out, err = _invoke("catalog", "validate", str(tmp_path))
    assert code == 0, out + err  # the same recipe again (a copy) is no conflict
    (tmp_path / "mine.yaml").write_text(text.replace("description: ", "description: Mine. ", 1))
    code, out, err = _invoke("catalog", "validate", str(tmp_path))
    assert code == 2
    assert "recipe imu-stats-tree@1 differs from the imu-stats-tree@1 of another" in out + err
    (tmp_path / "mine.yaml").unlink()
    target = (ROOT / "recipes" / "targets" / "stm32f446re.yaml").read_text()
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "odd.yaml").write_text(
        target.replace("name: stm32f446re", "name: odd").replace("0x08000000", "0x08000001")
    )
    code, out, err = _invoke("catalog", "validate", str(tmp_path))
    assert code == 2 and "memory.flash_origin: Input should be a multiple of 128" in out + err
