"""One line per finished fold, for the searches' ``verbose=1``.

A search at realistic size runs for minutes; ``GridSearchCV`` users expect
``verbose=1`` to say how far it is, and ``verbose=0`` to say nothing. Both
searches (:class:`bcsk.BCCompatibleClassifierCV` and
:class:`bcsk.gate.CompatibleUpdateClassifierCV`) report through
:class:`FoldProgress`, so their lines read alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator


class FoldProgress:
    """Prints ``[Owner] fold i/n done ...`` after each fold when ``verbose > 0``.

    Parameters
    ----------
    owner : str
        The search's class name, at the start of each line.
    n_folds : int
        Folds to train.
    what : str
        What each fold trains, e.g. ``"13 candidates x 5 flip costs"``.
    verbose : int
        0: silent; 1 or more: one line per fold.
    remaining_after : float
        Work after the last fold, in folds (the refit: about one fold's
        time divided by the share of the rows a fold trains on and by the
        candidates a fold trains), for the estimate of the time left.
    """

    def __init__(
        self,
        owner: str,
        n_folds: int,
        what: str,
        verbose: int,
        remaining_after: float = 0.0,
    ) -> None:
        self.owner = owner
        self.n_folds = n_folds
        self.what = what
        self.verbose = verbose
        self.remaining_after = remaining_after
        self.started = time.perf_counter()

    def line(self, done: int, elapsed: float) -> str:
        """The line printed after ``done`` folds, ``elapsed`` seconds in."""
        left = elapsed / done * (self.n_folds - done + self.remaining_after)
        tail = "refit next" if done == self.n_folds and self.remaining_after else ""
        return (
            f"[{self.owner}] fold {done}/{self.n_folds} done ({self.what}): "
            f"{elapsed:.1f} s elapsed, about {left:.0f} s left"
            + (f", {tail}" if tail else "")
        )

    def track(self, folds: Iterable) -> Iterator:
        """Yield each fold's result, printing its line first when verbose."""
        for done, result in enumerate(folds, start=1):
            if self.verbose > 0:
                print(self.line(done, time.perf_counter() - self.started), flush=True)
            yield result

    def refitted(self) -> None:
        """Print the closing line after the refit on all the rows, when verbose."""
        if self.verbose > 0:
            elapsed = time.perf_counter() - self.started
            print(f"[{self.owner}] refit done: {elapsed:.1f} s in all", flush=True)
