"""ONNX Runtime against PyTorch eager on a learned method's network, on the same feeds, as the
method benchmarks report it (``bm_ssen.py``, ``bm_prob_embeddings.py``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from edge3d import synth


@dataclass(frozen=True)
class NetworkRatio:
    """Mean seconds per room of each path (best of 3, interleaved), the largest output
    difference (None with fresh weights), mean network rows per room, PyTorch's threads."""

    ort_s: float
    torch_s: float
    max_diff: float | None
    rows: int
    threads: int
    rooms: int


def ort_vs_torch(method, model, seeds, same_weights: bool) -> NetworkRatio:
    """``method``: a package method (its ``build_inputs`` and ``backends["main"]``);
    ``model``: the PyTorch network of the same graph."""
    import torch

    from edge3d.export.package_export import TorchBackend

    tb = TorchBackend(model.eval())
    ort_t, torch_t, diffs, rows = [], [], [], []
    for s in tqdm(list(seeds), desc="ort vs torch", leave=False):
        lp = synth.make_world(s).surface_points(0.02)
        feeds, _ = method.build_inputs(lp.positions, lp.colors.astype(np.float32) / 255)
        rows.append(len(next(iter(feeds.values()))))
        best = {"ort": np.inf, "torch": np.inf}
        outputs = {}
        for _ in range(3):
            for name, backend in (("ort", method.backends["main"]), ("torch", tb)):
                t = time.perf_counter()
                outputs[name] = backend.run(feeds)
                best[name] = min(best[name], time.perf_counter() - t)
        ort_t.append(best["ort"])
        torch_t.append(best["torch"])
        diffs.append(max(float(np.abs(outputs["ort"][k] - outputs["torch"][k]).max())
                         for k in outputs["ort"]))
    return NetworkRatio(float(np.mean(ort_t)), float(np.mean(torch_t)),
                        float(max(diffs)) if same_weights else None, int(np.mean(rows)),
                        torch.get_num_threads(), len(list(seeds)))


def markdown(r: NetworkRatio, rows: str, goal: str = "") -> list[str]:
    """The report's section: ``rows`` names what the network runs over (``"voxels"``)."""
    lines = ["## Network: ONNX Runtime vs PyTorch eager", "",
             f"Same inputs ({r.rows} {rows} per room on average, {r.rooms} rooms, best of 3, "
             f"interleaved); PyTorch with {r.threads} threads, "
             f"{'checkpoint weights' if r.max_diff is not None else 'fresh weights (same graph)'}"
             ".", "", "| path | ms per room |", "|---|---|",
             f"| ONNX Runtime | {r.ort_s * 1e3:.0f} |",
             f"| PyTorch eager | {r.torch_s * 1e3:.0f} |",
             "", f"ORT / PyTorch time ratio: **{r.ort_s / r.torch_s:.2f}** "
             f"({r.torch_s / r.ort_s:.1f}x faster{goal})."]
    if r.max_diff is not None:
        lines.append(f"Largest output difference between the two: {r.max_diff:.2e}.")
    return [*lines, ""]
