"""Re-makes the pictures in docs/synthetic.md (run from the repository root):

    .venv/bin/python docs/images/make_synthetic_images.py

Writes docs/images/synthetic_*.png: a rendered frame with its ground truth, rooms seen from a
walk-through, a top view of a room's labelled surface points with the camera paths, the depth
noise model, and a toy scene with the connected-components baseline.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from edge3d import synth
from edge3d.geometry import look_at
from edge3d.synth.primitives import Box
from edge3d.synth.world import SceneObject, World

OUT = Path(__file__).resolve().parent
ROOM_SEED = 5


def _palette(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    colors = rng.uniform(0.15, 1.0, (n, 3))
    colors[0] = 0.0
    return colors


def frame_with_ground_truth() -> None:
    world = synth.make_world(ROOM_SEED)
    pose = synth.trajectories.walkthrough(world, 60)[40]
    r = synth.VirtualCamera(seed=1).render(world, pose)
    depth = r.frame.depth_m()
    inst = _palette(len(world.objects) + 1)[r.instance]
    sem_cmap = plt.get_cmap("tab10")
    sem = np.where(r.semantic[..., None] >= 0, sem_cmap(np.clip(r.semantic, 0, 9))[..., :3], 0)
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
    axes[0].imshow(r.frame.color)
    axes[0].set_title("colour (uint8 RGB, aligned to depth)")
    im = axes[1].imshow(np.where(depth > 0, depth, np.nan), cmap="turbo")
    axes[1].set_title("depth (0 = hole: black)")
    axes[1].set_facecolor("black")
    fig.colorbar(im, ax=axes[1], fraction=0.035, label="metres")
    axes[2].imshow(inst)
    axes[2].set_title("instance (0 = stuff: black)")
    axes[3].imshow(sem)
    axes[3].set_title("semantic")
    handles = [plt.Rectangle((0, 0), 1, 1, color=sem_cmap(i)) for i in range(10)]
    axes[3].legend(handles, synth.CLASS_NAMES, loc="center left", bbox_to_anchor=(1.0, 0.5),
                   fontsize=8, frameon=False)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(OUT / "synthetic_frame.png", dpi=80)
    plt.close(fig)


def rooms_gallery() -> None:
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.2))
    for ax, seed in zip(axes.ravel(), range(6), strict=True):
        world = synth.make_world(seed)
        pose = synth.trajectories.orbit(world, 40)[20]
        r = synth.VirtualCamera(noise=False).render(world, pose)
        ax.imshow(r.frame.color)
        sx, sy = world.params["room_size"]
        ax.set_title(f"seed {seed}: {sx:.1f} x {sy:.1f} m, {len(world.objects)} objects",
                     fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(OUT / "synthetic_rooms.png", dpi=70)
    plt.close(fig)


def top_view() -> None:
    world = synth.make_world(ROOM_SEED)
    pts = world.surface_points(spacing=0.02)
    stuff = pts.instance == 0
    order = np.concatenate([np.flatnonzero(stuff), np.flatnonzero(~stuff)[
        np.argsort(pts.positions[~stuff, 2])]])  # floor first, then objects low to high
    p, size = pts.positions[order], np.where(stuff[order], 0.2, 1.2)
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.2))
    colors = _palette(len(world.objects) + 1)[pts.instance[order]]
    colors[stuff[order]] = 0.88
    axes[0].scatter(p[:, 0], p[:, 1], c=colors, s=size, linewidths=0)
    axes[0].set_title("labelled surface points by instance (grey: floor and walls)")
    cmap = plt.get_cmap("tab10")
    sem = cmap(pts.semantic[order])[:, :3]
    sem[stuff[order]] = 0.5 + 0.5 * sem[stuff[order]]
    axes[1].scatter(p[:, 0], p[:, 1], c=sem, s=size, linewidths=0)
    axes[1].set_title("by class, with the camera paths")
    for name, color in (("orbit", "black"), ("walkthrough", "crimson")):
        poses = getattr(synth.trajectories, name)(world, 150)
        xy = np.array([q[:2, 3] for q in poses])
        axes[1].plot(xy[:, 0], xy[:, 1], color=color, lw=1.5, label=name)
        for q in poses[::15]:
            f = q[:2, 2] / max(np.linalg.norm(q[:2, 2]), 1e-9) * 0.35
            axes[1].arrow(q[0, 3], q[1, 3], f[0], f[1], color=color, width=0.01,
                          head_width=0.08)
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i)) for i in range(10)]
    axes[1].legend(handles + axes[1].lines, [*synth.CLASS_NAMES, "orbit", "walkthrough"],
                   loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
    fig.tight_layout()
    fig.savefig(OUT / "synthetic_topview.png", dpi=70)
    plt.close(fig)


def noise_model() -> None:
    cam = synth.VirtualCamera(synth.d435_intrinsics(320, 240), holes=False, max_depth=10.0)
    zs = np.linspace(0.5, 5.5, 11)
    measured = []
    for z in zs:
        wall = Box.from_extents((z, -20, -20), (z + 0.2, 20, 20))
        world = World("room", 0, ("floor", "wall"), (0, 1), [],
                      [SceneObject(0, 1, [wall], np.array([[200, 200, 200]], np.uint8))],
                      (np.full(3, -50.0), np.full(3, 50.0)))
        r = cam.render(world, look_at(np.zeros(3), np.array([1.0, 0, 0])))
        ok = r.frame.depth > 0
        measured.append(np.std(r.frame.depth_m()[ok] - r.depth_true[ok]))
    fig, ax = plt.subplots(figsize=(6, 3.6))
    fine = np.linspace(0.3, 6, 100)
    ax.plot(fine, 1e3 * cam.depth_sigma(fine), label=r"model $z^2 \cdot 0.08 / (385 \cdot 0.05)$")
    ax.plot(zs, 1e3 * np.array(measured), "o", label="measured on rendered frames")
    ax.set_xlabel("depth z (m)")
    ax.set_ylabel("depth noise, 1 sigma (mm)")
    ax.set_title("virtual D435: stereo depth noise grows with z²")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(OUT / "synthetic_noise.png", dpi=80)
    plt.close(fig)


def toy_scene() -> None:
    world = next(w for w in (synth.make_world(s, kind="toy", touching_fraction=0.6,
                                              num_objects=9) for s in range(50))
                 if _same_class_touch(w))
    pts = world.surface_points(spacing=0.015)
    labels = synth.toy.connected_components(pts.positions, pts.semantic, radius=0.045)
    order = np.argsort(pts.positions[:, 2])
    p = pts.positions[order]
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    cmap = plt.get_cmap("tab10")
    axes[0].scatter(p[:, 0], p[:, 1], c=cmap(pts.semantic[order])[:, :3], s=0.5, linewidths=0)
    axes[0].set_title("classes (toy: " + ", ".join(synth.TOY_CLASS_NAMES[1:]) + ")", fontsize=9)
    for ax, lab, title in ((axes[1], pts.instance, "ground-truth instances"),
                           (axes[2], labels, "connected components of GT classes (baseline)")):
        c = _palette(int(lab.max()) + 1, seed=3)[lab[order]]
        c[lab[order] == 0] = 0.85
        ax.scatter(p[:, 0], p[:, 1], c=c, s=0.5, linewidths=0)
        ax.set_title(title, fontsize=9)
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(OUT / "synthetic_toy.png", dpi=70)
    plt.close(fig)


def _same_class_touch(world: World) -> bool:
    from edge3d.synth.primitives import boxes_within

    objs = world.objects
    return any(a.class_id == b.class_id and boxes_within(a.primitives[0], b.primitives[0], 1e-6)
               for i, a in enumerate(objs) for b in objs[i + 1:])


if __name__ == "__main__":
    for make in (frame_with_ground_truth, rooms_gallery, top_view, noise_model, toy_scene):
        make()
        print(f"made {make.__name__}")
    print(f"pictures in {OUT}")
