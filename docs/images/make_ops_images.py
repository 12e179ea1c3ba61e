"""Draws docs/images/ops_sectors.png and ops_point_in_box.png from the PyTorch references."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

import edge3d.ops as ops

OUT = Path(__file__).resolve().parent
# 25 distinct colours, one per sector of the default 5 x 5 grid.
SECTOR_COLOURS = matplotlib.colors.ListedColormap(
    [*plt.get_cmap("tab20").colors, *plt.get_cmap("Dark2").colors[:5]])


def sectors() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    # Left: the sector index over (azimuth, polar) for the default 5 x 5 grid.
    az, pol = np.meshgrid(np.linspace(-np.pi + 1e-3, np.pi, 721), np.linspace(0, np.pi, 361))
    d = np.stack([np.sin(pol) * np.cos(az), np.sin(pol) * np.sin(az), np.cos(pol)], -1)
    origin = torch.zeros(1, 3, dtype=torch.float64)
    sector, _ = ops.sector_bin(torch.from_numpy(d.reshape(-1, 3)), origin)
    grid = sector.reshape(az.shape).numpy()
    ax = axes[0]
    ax.imshow(grid, extent=(0, 360, 180, 0), aspect="auto", cmap=SECTOR_COLOURS, vmin=-0.5,
              vmax=24.5, interpolation="nearest")
    for s in range(25):
        ys, xs = np.nonzero(grid == s)
        ax.text(xs.mean() / 2, ys.mean() / 2, str(s), ha="center", va="center", fontsize=9)
    ax.set_xlabel("phi = atan2(dy, dx) + pi   [deg]")
    ax.set_ylabel("theta = angle from +z   [deg]")
    ax.set_title("SectorBin: sector = polar_bin * 5 + azimuth_bin")
    # Right: a ring of points around a centre, top view, coloured by sector; polar bin 2 only.
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, size=(4000, 3)) * np.array([1, 1, 0])
    sector, _ = ops.sector_bin(torch.from_numpy(pts), origin)
    ax = axes[1]
    ax.scatter(pts[:, 0], pts[:, 1], c=sector[0].numpy(), cmap=SECTOR_COLOURS, vmin=-0.5,
               vmax=24.5, s=4)
    for s in np.unique(sector.numpy()):
        mean = pts[sector[0].numpy() == s, :2].mean(0)
        ax.text(*mean, str(s), fontsize=12, weight="bold", ha="center")
    ax.scatter([0], [0], c="k", marker="x", s=60)
    ax.annotate("centre", (0, 0), (0.05, 0.05), fontsize=9)
    ax.set_aspect("equal")
    ax.set_xlabel("dx")
    ax.set_ylabel("dy")
    ax.set_title("Points in the plane z = 0 around a centre (polar bin 2)")
    fig.tight_layout()
    fig.savefig(OUT / "ops_sectors.png", dpi=110)


def point_in_box() -> None:
    fig, ax = plt.subplots(figsize=(7, 3.4))
    x = torch.linspace(-0.3, 1.3, 801, dtype=torch.float64)
    points = torch.stack([x, torch.full_like(x, 0.5), torch.full_like(x, 0.5)], -1)
    box = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]], dtype=torch.float64)
    for theta1 in (10.0, 100.0, 1000.0):
        prob = ops.point_in_box_prob(points, box, theta1=theta1)[0]
        ax.plot(x, prob, label=f"theta1 = {theta1:g}")
    ax.axvspan(0, 1, color="0.9", label="box [0, 1]")
    ax.set_xlabel("x (y = z = 0.5)")
    ax.set_ylabel("PointInBoxProb")
    ax.set_title("3D-BoNet Algorithm 1: soft point-in-box probability (theta2 = 20)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "ops_point_in_box.png", dpi=110)


if __name__ == "__main__":
    sectors()
    point_in_box()
