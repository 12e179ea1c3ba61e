"""The one method registry: every description resolves, every runtime class keeps the
contract, and the parts the descriptions name agree with each other and with the packages."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from edge3d import methods
from edge3d.methods.protocol import check_method_class
from tests.methods.layout import ROOT


def test_the_registry_imports_no_torch_backend_or_native_code() -> None:
    code = ("import sys, edge3d.methods as m; [m.describe(n) for n in m.REGISTRY];"
            "bad = [k for k in ('torch', 'onnxruntime', 'edge3d.native', 'edge3d.runtime')"
            " if k in sys.modules]; assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", list(methods.REGISTRY))
def test_every_description_resolves(name: str) -> None:
    d = methods.describe(name)
    assert d.name == name and d.summary
    if d.runtime is not None:
        cls = methods.runtime_class(name)
        assert cls.name == name
        assert dataclasses.is_dataclass(d.part("params"))
    if d.needs_package:
        from edge3d.ops import OPS
        from edge3d.runtime.input_builders import INPUT_BUILDERS

        assert d.backbone in INPUT_BUILDERS
        assert len({g.name for g in d.graphs}) == len(d.graphs)
        for g in d.graphs:
            assert set(g.custom_ops) <= set(OPS), g
            assert g.opset >= (18 if g.custom_ops else 17)


@pytest.mark.parametrize("name", [d.name for d in methods.descriptions() if d.trainable])
def test_trainable_methods_name_importable_training_parts(name: str) -> None:
    pytest.importorskip("torch")
    d = methods.describe(name)
    for part in ("model", "loss", "targets", "target_spec", "validate"):
        assert callable(d.part(part)), part
    if d.exportable:
        assert callable(d.part("sections")) and callable(d.part("examples"))


def test_bundled_packages_hold_the_graphs_their_method_declares() -> None:
    from edge3d.package import bundled_packages, load_package

    for name, path in bundled_packages().items():
        package = load_package(path)
        declared = [g.name for g in methods.describe(package.method).graphs]
        assert list(package.graphs) == declared, name


def test_an_unknown_or_training_only_method_is_refused_by_name() -> None:
    with pytest.raises(methods.UnknownMethodError, match=f"registered: .*{methods.DEFAULT_MODEL}"):
        methods.describe("no_such_method")
    training_only = [d.name for d in methods.descriptions() if d.runtime is None]
    for name in training_only:
        with pytest.raises(methods.UnknownMethodError, match="for training only"):
            methods.runtime_class(name)


def test_a_class_that_breaks_the_contract_is_refused_with_what_it_lacks() -> None:
    class NoSegment:
        name = "x"
        class_names = ()
        memory_budget = 1

        @classmethod
        def create(cls, package, backend="auto", device="auto", **options):
            return cls()

        def describe(self):
            return {}

    with pytest.raises(TypeError, match=r"no method segment\(\)"):
        check_method_class(NoSegment, "x", superpoints=False)

    class NoSuperpoints(NoSegment):
        def segment(self, points, colors=None):
            return None

    check_method_class(NoSuperpoints, "x", superpoints=False)
    with pytest.raises(TypeError, match="uses superpoints"):
        check_method_class(NoSuperpoints, "x", superpoints=True)
    with pytest.raises(TypeError, match="its name is 'x'"):
        check_method_class(NoSuperpoints, "y", superpoints=False)


def test_the_docs_list_every_registered_method() -> None:
    text = (ROOT / "docs" / "models.md").read_text()
    rows = {}
    for line in text.split("## The registered methods", 1)[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1:]
    want = {d.name: [d.summary, ", ".join(g.name for g in d.graphs) or "none",
                     d.backbone or "none", "yes" if d.runtime else "no",
                     "yes" if d.trainable else "no"] for d in methods.descriptions()}
    assert rows == want
