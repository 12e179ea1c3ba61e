"""Every TensorRT plugin creator agrees with the Python op registry: the same ops, versions,
namespace, attribute names, types and defaults, and the same accepted ranges (probed at both
ends). Needs TensorRT headers to build the plugins (skipped without them); no GPU."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

from edge3d.ops import OPS
from edge3d.ops.registry import PLUGIN_NAMESPACE, Range


def _selftest(plugin_build: Path) -> Path:
    binary = plugin_build / "plugin_selftest"
    if not binary.exists():
        pytest.skip("no TensorRT headers (set TensorRT_INCLUDE_DIR or TENSORRT_ROOT)")
    return binary


def _run(binary: Path, *args: str) -> str:
    return subprocess.run([str(binary), *args], capture_output=True, text=True,
                          check=True).stdout


def test_creators_match_the_op_registry(plugin_build: Path) -> None:
    binary = _selftest(plugin_build)
    described = {d["name"]: d for d in map(json.loads, _run(binary, "--describe").splitlines())}
    assert set(described) == {spec.plugin_name for spec in OPS.values()}
    for spec in OPS.values():
        creator = described[spec.plugin_name]
        assert creator["version"] == spec.plugin_version, spec.name
        assert creator["namespace"] == PLUGIN_NAMESPACE, spec.name
        assert [f["name"] for f in creator["fields"]] == list(spec.attributes), spec.name
        for f in creator["fields"]:
            default = spec.attributes[f["name"]]
            assert f["type"] == ("int32" if isinstance(default, int) else "float32"), f
            assert f["default"] == pytest.approx(default, rel=1e-6), f


def _probes(allowed: Range, integer: bool) -> list[tuple[float, bool]]:
    """Values at and beyond each end of the range, with whether the range accepts them."""
    step = 1 if integer else 1e-3
    values = [1e6, -1e6] + ([] if integer else [math.nan])
    for bound in (allowed.low, allowed.high):
        if bound is not None:
            values += [bound - step, bound, bound + step]
    return [(v, allowed.accepts(v)) for v in values]


@pytest.mark.parametrize("op", sorted(OPS))
def test_creators_accept_exactly_the_registry_ranges(plugin_build: Path, op: str) -> None:
    binary = _selftest(plugin_build)
    spec = OPS[op]
    for name, default in spec.attributes.items():
        integer = isinstance(default, int)
        for value, accepted in _probes(spec.ranges.get(name, Range()), integer):
            text = str(int(value)) if integer else repr(value)
            out = _run(binary, "--probe", spec.plugin_name, name, text).strip()
            assert out.startswith("accepted" if accepted else "refused"), (name, value, out)
            if not accepted:  # the reason reached TensorRT's logger, naming the attribute
                assert f"[edge3d {spec.plugin_name}] {name} = " in out, out
