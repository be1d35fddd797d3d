"""Progress bars: tqdm's on a terminal; in a Jupyter kernel plain text on stdout, redrawn every few seconds.

In a notebook, tqdm's terminal bar writes to stderr, and every redraw is kept as a red fragment in the executed
notebook. Without ipywidgets (not a dependency) the plain-text bar is the readable choice: it goes to stdout in
ASCII, draws at the start, at most every `NOTEBOOK_INTERVAL_S` seconds and once at the end.
"""

from __future__ import annotations

import sys

__all__ = ["progress_bar", "in_notebook", "NOTEBOOK_INTERVAL_S"]

#: Seconds between redraws of a bar in a notebook.
NOTEBOOK_INTERVAL_S = 10.0


def in_notebook() -> bool:
    """True in a Jupyter kernel (ipykernel's stdout), False in a terminal, a script or a worker process."""
    return "ipykernel" in sys.modules and type(sys.stdout).__module__.startswith("ipykernel")


def progress_bar(total: int, *, desc: str, unit: str, disable: bool = False):
    """A tqdm bar of `total` steps: on stderr in a terminal, plain text on stdout in a notebook."""
    from tqdm.std import tqdm

    if disable or not in_notebook():
        return tqdm(total=total, desc=desc, unit=unit, disable=disable)
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stdout, ascii=True, mininterval=NOTEBOOK_INTERVAL_S,
                maxinterval=NOTEBOOK_INTERVAL_S, dynamic_ncols=False, ncols=100)  # fmt: skip
