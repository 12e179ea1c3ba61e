"""Speed of the edge3d ops: ONNX function body in ONNX Runtime vs the PyTorch reference (CPU),
and the CUDA kernels vs the reference when a GPU and a plugins/ build exist.

Ratios are measured side by side in one run (these machines are noisy); the table goes to
docs/benchmarks/ops.md. Usage: python bench/bm_ops.py [--repeats 20] [--threads 2]
[--kernels build/plugins/libedge3d_kernels.so] [--out docs/benchmarks/ops.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import onnxruntime as ort
import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import edge3d.ops as ops  # noqa: E402
from tests.ops.cases import SIZES, make_inputs  # noqa: E402

REFERENCES = {
    "SectorBin": ops.sector_bin, "SectorMask": ops.sector_mask,
    "PointInBoxProb": ops.point_in_box_prob, "SoftBoxIoU": ops.soft_box_iou,
}
KERNELS = {"SectorBin": "sector_bin", "SectorMask": "sector_mask",
           "PointInBoxProb": "point_in_box_prob", "SoftBoxIoU": "soft_box_iou"}


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up (allocations, ORT's first-run planning)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--kernels", type=Path, default=None,
                        help="libedge3d_kernels.so (adds the CUDA column when a GPU exists)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/benchmarks/ops.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    kernels = None
    if args.kernels is not None:
        from tests.plugins.kernel_lib import KernelLibrary

        kernels = KernelLibrary(args.kernels)
        if kernels.device_count == 0:
            print("no CUDA device: the kernel column is skipped")
            kernels = None

    rows = []
    cases = [(op, size) for op in REFERENCES for size in SIZES]
    for op, size in tqdm(cases, desc="ops"):
        n, k, b = SIZES[size]
        feeds = make_inputs(op, n, k, b, seed=1)
        session = ort.InferenceSession(ops.onnx_model(op).SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        tensors = [torch.from_numpy(a) for a in feeds.values()]

        def reference(tensors: list[torch.Tensor] = tensors, op: str = op) -> object:
            with torch.no_grad():
                return REFERENCES[op](*tensors)

        torch_ms = median_ms(reference, args.repeats)
        ort_ms = median_ms(lambda s=session, f=feeds: s.run(None, f), args.repeats)
        row = [op, size, f"N={n}, K/H/A={k}" + (f", B={b}" if op == "SoftBoxIoU" else ""),
               f"{torch_ms:.3f}", f"{ort_ms:.3f}", f"{torch_ms / ort_ms:.2f}"]
        if kernels is not None:
            fn = getattr(kernels, KERNELS[op])
            fn(*feeds.values(), repeats=args.repeats)
            row += [f"{kernels.last_ms:.4f}", f"{torch_ms / kernels.last_ms:.0f}"]
        rows.append(row)

    header = ["op", "size", "shape", "PyTorch ref (ms)", "ORT body (ms)", "ref / ORT"]
    if kernels is not None:
        header += ["CUDA kernel (ms)", "ref / kernel"]
    lines = [
        "## Custom ops (edge3d.ops)",
        "",
        f"`python bench/bm_ops.py --repeats {args.repeats} --threads {args.threads}`; "
        f"{platform.processor() or platform.machine()}, {args.threads} threads, torch "
        f"{torch.__version__}, onnxruntime {ort.__version__}. Median wall time of one call "
        "(float32, unbatched). The ORT column is the pure-ONNX function body that "
        "`model.portable.onnx` runs; the ratio > 1 means the body is faster than the reference.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    if kernels is None:
        lines += ["The CUDA kernel column needs a GPU and `--kernels "
                  "build/plugins/libedge3d_kernels.so`; it was not measured in this run.", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
