"""``python -m bcsk.demo``: choose a backward-compatible update, end to end.

The story of the demo, on data that ships with scikit-learn (no network):

1. An *old model* h1 (a logistic regression) was trained on a small slice of
   the training data; users have learned when to trust it.
2. Now all the training data is available. One call,
   :class:`bcsk.BCCompatibleClassifierCV`, cross-validates every candidate
   *new model* h2 (a small Keras network) at once: three dissonances (new
   error, focal distillation, logit difference), each with its own "auto"
   grid of compatibility weights ``lambda_c``, every one served alone or
   behind the update gate (:class:`bcsk.CompatibleUpdateClassifier`) at
   several flip costs, scored with :func:`bcsk.compatibility_scoring`.
3. The update to ship is the one with the lowest cross-validated *update
   cost* (:func:`bcsk.lowest_update_cost`): every error costs 1 and a new
   error (a sample h1 got right and h2 gets wrong) costs ``--new-error-cost``
   (default 2: a new error counts twice).
4. h1, the plain update (``lambda_c=0``, no gate) and the shipped update are
   then compared on a held-out test set: accuracy, BTC, BEC, errors, new
   errors and cost; the cross-validated front and the test-set new errors
   are drawn as PNG files.

Run ``python -m bcsk.demo --help`` for the options; ``bcsk-demo`` is the same
command. :mod:`bcsk.demo._cli` holds the command line, :mod:`bcsk.demo._run`
the run and :mod:`bcsk.demo._output` what it prints and draws.
"""

from bcsk.demo._cli import main

__all__ = ["main"]
