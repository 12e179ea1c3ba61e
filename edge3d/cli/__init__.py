"""The ``edge3d`` command. Each subcommand is a module in this package with ``add_parser`` and
``run``; a subcommand whose module fails to import still shows up, and says why it cannot run."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence


def _subcommands() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="edge3d", description="edge3d: 3D instance segmentation from research to robots."
    )
    from edge3d import __version__

    parser.add_argument("--version", action="version", version=f"edge3d {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    runners = {}
    for name in _subcommands():
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ImportError as exc:
            sub.add_parser(name, help=f"(unavailable: {exc})")
            runners[name] = _unavailable(name, exc)
            continue
        module.add_parser(sub)
        runners[name] = module.run
    args = parser.parse_args(argv)
    try:
        return int(runners[args.command](args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _unavailable(name: str, exc: ImportError):
    def run(_args: argparse.Namespace) -> int:
        print(f"edge3d {name} cannot run: {exc}", file=sys.stderr)
        return 2

    return run


if __name__ == "__main__":
    sys.exit(main())
