#!/usr/bin/env python3
"""Strips outputs from notebooks before committing: python notebooks/strip.py [NOTEBOOK ...].

Without arguments, strips every notebooks/*.ipynb. Clears outputs and execution counts of code cells and
drops per-run metadata (execution timings, widget state). Uses nbformat only.
"""
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def strip(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    after = nbformat.writes(nb)
    if after != before:
        path.write_text(after + ("" if after.endswith("\n") else "\n"), encoding="utf-8")
        return True
    return False


def main(args):
    paths = [Path(a) for a in args] or sorted(HERE.glob("*.ipynb"))
    for p in paths:
        print(("stripped " if strip(p) else "clean    ") + str(p))


if __name__ == "__main__":
    main(sys.argv[1:])
