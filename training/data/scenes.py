"""Labelled scenes for training and validation: synthetic worlds, ScanNet, S3DIS.

Every source yields :class:`Scene` objects with the same fields, so datasets, augmentation and
evaluation do not care where a scene came from.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

IGNORE = -100
"""Semantic label of points that take no part in the semantic loss (unannotated, other)."""


@dataclass
class Scene:
    """One labelled point cloud.

    Attributes:
        name: unique name (used for caching and in evaluation reports).
        positions: float32 [N, 3] metres, z up.
        colors: float32 [N, 3] in [0, 1].
        semantic: int32 [N] class id (index into ``class_names``), :data:`IGNORE` if unlabelled.
        instance: int32 [N] instance id from 1 (0 = no instance, e.g. floor and walls).
        class_names: class id -> name.
        background_classes: class ids without instances ("stuff"), not evaluated.
        normals: float32 [N, 3] unit normals, or None when the source has none.
    """

    name: str
    positions: np.ndarray
    colors: np.ndarray
    semantic: np.ndarray
    instance: np.ndarray
    class_names: tuple[str, ...]
    background_classes: tuple[int, ...]
    normals: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def gt_ids(self) -> np.ndarray:
        """int64 [N] ScanNet-style ``class * 1000 + instance`` (0 where the class is ignored)."""
        sem = self.semantic.astype(np.int64)
        return np.where(sem >= 0, sem * 1000 + self.instance, 0)

    def subset(self, index: np.ndarray) -> Scene:
        """The scene restricted to the points ``index`` (bool mask or indices)."""
        return replace(self, positions=self.positions[index], colors=self.colors[index],
                       semantic=self.semantic[index], instance=self.instance[index],
                       normals=None if self.normals is None else self.normals[index])


class SyntheticScenes:
    """Scenes from ``edge3d.synth.make_world(seed, kind)`` surface points, one per seed.

    Args:
        kind: ``"toy"`` (MTML toy scenes: cuboids on a plane) or ``"room"``.
        seeds: world seeds, one scene each.
        spacing: surface point spacing, metres.
        cache_dir: if set, each generated scene is saved there as ``.npz`` (written atomically)
            and read back next time instead of regenerating.
        world: further :func:`edge3d.synth.make_world` parameters (``touching_fraction``, ...).
    """

    def __init__(self, kind: str, seeds: Sequence[int], spacing: float,
                 cache_dir: str | os.PathLike | None = None,
                 world: Mapping[str, object] | None = None) -> None:
        self.kind = kind
        self.seeds = [int(s) for s in seeds]
        self.spacing = float(spacing)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.world = dict(world or {})

    def __len__(self) -> int:
        return len(self.seeds)

    def _names(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        from edge3d import synth

        if self.kind == "toy":
            return tuple(synth.TOY_CLASS_NAMES), tuple(synth.TOY_BACKGROUND_CLASSES)
        return tuple(synth.CLASS_NAMES), tuple(synth.BACKGROUND_CLASSES)

    def __getitem__(self, i: int) -> Scene:
        seed = self.seeds[i]
        # The parameters are part of the cache name: the same seed with other parameters is
        # another world.
        params = "".join(f"_{k}{v}" for k, v in sorted(self.world.items()))
        name = f"{self.kind}_{seed}_{self.spacing:g}{params}"
        names, background = self._names()
        cached = None if self.cache_dir is None else self.cache_dir / f"{name}.npz"
        if cached is not None and cached.is_file():
            with np.load(cached) as z:
                return Scene(name, z["positions"], z["colors"], z["semantic"], z["instance"],
                             names, background, z["normals"])
        from edge3d.synth import make_world

        pts = make_world(seed, kind=self.kind, **self.world).surface_points(self.spacing,
                                                                            seed=seed)
        scene = Scene(name, pts.positions.astype(np.float32),
                      pts.colors.astype(np.float32) / 255.0, pts.semantic.astype(np.int32),
                      pts.instance.astype(np.int32), names, background,
                      pts.normals.astype(np.float32))
        if cached is not None:
            _save_npz(cached, positions=scene.positions, colors=scene.colors,
                      semantic=scene.semantic, instance=scene.instance, normals=scene.normals)
        return scene


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class ScanNetScenes:
    """ScanNet v2 scenes through :func:`edge3d.io.scannet.load_scene`.

    Classes: wall, floor (background) and the 18 benchmark classes (class id = index); every
    other NYU40 label is :data:`IGNORE` with no instance.
    """

    def __init__(self, root: str | os.PathLike, names: Sequence[str]) -> None:
        from edge3d.io import scannet

        self.root = Path(root)
        self.names = list(names)
        ids = (1, 2, *scannet.BENCHMARK_CLASS_IDS)
        self.class_names = ("wall", "floor", *scannet.BENCHMARK_CLASS_NAMES)
        self._lookup = np.full(256, IGNORE, np.int32)
        self._lookup[list(ids)] = np.arange(len(ids), dtype=np.int32)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> Scene:
        from edge3d.io import scannet

        s = scannet.load_scene(self.root / self.names[i])
        semantic = self._lookup[np.clip(s.semantic, 0, 255)]
        instance = np.where(semantic >= 2, s.instance, 0).astype(np.int32)
        return Scene(self.names[i], s.points.astype(np.float32),
                     s.colors.astype(np.float32) / 255.0, semantic, instance, self.class_names,
                     (0, 1))


class S3DISScenes:
    """S3DIS rooms (``Area_N/<room>`` folders under ``root``) through
    :func:`edge3d.io.s3dis.load_room`; the 13 S3DIS classes, all evaluated."""

    def __init__(self, root: str | os.PathLike, rooms: Sequence[str]) -> None:
        self.root = Path(root)
        self.rooms = list(rooms)

    def __len__(self) -> int:
        return len(self.rooms)

    def __getitem__(self, i: int) -> Scene:
        from edge3d.io import s3dis

        r = s3dis.load_room(self.root / self.rooms[i])
        return Scene(self.rooms[i].replace("/", "_"), r.points.astype(np.float32),
                     r.colors.astype(np.float32) / 255.0, r.semantic.astype(np.int32),
                     r.instance.astype(np.int32), tuple(s3dis.CLASS_NAMES), ())


def scene_source(data: dict, split: str):
    """The scene source of the ``data`` config section for ``split`` ("train" or "val")."""
    source = data["source"]
    if source == "synthetic":
        seeds = {name: range(int(data[f"{name}_seeds"][0]), int(data[f"{name}_seeds"][1]))
                 for name in ("train", "val")}
        shared = set(seeds["train"]) & set(seeds["val"])
        if shared and not data.get("val_on_train_ok"):
            raise ValueError(
                f"data.val_seeds {data['val_seeds']} overlap data.train_seeds "
                f"{data['train_seeds']} ({len(shared)} seeds): validation would measure worlds "
                "the model trained on; choose disjoint ranges (or set data.val_on_train_ok=true "
                "for an overfit check)")
        return SyntheticScenes(data["kind"], seeds[split], data["spacing"],
                               data.get("cache_dir"), data.get("world"))
    if data.get("root") is None:
        raise ValueError(f"data.source={source} needs data.root (the dataset folder)")
    names = data[f"{split}_split"]
    if source == "scannet":
        return ScanNetScenes(data["root"], names)
    if source == "s3dis":
        return S3DISScenes(data["root"], names)
    raise ValueError(f"unknown data.source {source!r}; use synthetic, scannet or s3dis")
