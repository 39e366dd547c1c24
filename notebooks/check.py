#!/usr/bin/env python3
"""Checks the notebooks: python notebooks/check.py

(a) every notebooks/*.ipynb must be committed without outputs (execution_count null, outputs []);
(b) each is executed headless with nbclient (kernel python3, cwd notebooks/, timeout 120 s per cell) against
    the output folders already written by the binary (`samsde`, `samsde sweep …`); nothing is saved back.

Prints one line per notebook and closes with `N passed, M failed`; exits non-zero on any failure.
Run with the venv's python (notebooks/.venv/bin/python) so that the kernel `python3` is the venv's.
"""
import sys
import time
import traceback
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def dirty_cells(nb):
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]


def main():
    notebooks = sorted(HERE.glob("*.ipynb"))
    if not notebooks:
        print("no notebooks found in", HERE)
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for path in notebooks:
        name = path.relative_to(HERE.parent)
        nb = nbformat.read(path, as_version=4)
        dirty = dirty_cells(nb)
        if dirty:
            print(f"FAIL {name}: committed with outputs in code cells {dirty}; run python notebooks/strip.py")
            failed += 1
            continue
        t0 = time.perf_counter()
        try:
            NotebookClient(
                nb,
                timeout=120,
                kernel_name="python3",
                resources={"metadata": {"path": str(HERE)}},
            ).execute()
        except Exception as e:  # CellExecutionError, timeouts, dead kernels
            print(f"FAIL {name} ({time.perf_counter() - t0:.1f} s):")
            print("".join(traceback.format_exception_only(type(e), e)).rstrip())
            failed += 1
            continue
        print(f"ok   {name} ({time.perf_counter() - t0:.1f} s)")
        passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
