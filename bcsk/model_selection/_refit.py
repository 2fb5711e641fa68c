"""Refit rules: pick the update to ship from a search's ``cv_results_``.

Each rule is a ``refit=`` callable for ``GridSearchCV``,
``RandomizedSearchCV`` and :class:`~bcsk.BCCompatibleClassifierCV`: it reads
the mean CV scores that :func:`~bcsk.compatibility_scoring` records and returns
the index of the candidate to refit. The rules are small classes, not
closures, so that a fitted search pickles.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Mapping

import numpy as np

from bcsk import _docstrings

__all__ = [
    "best_accuracy_with_btc_at_least",
    "fewest_new_errors_within",
    "lowest_update_cost",
]


def best_accuracy_with_btc_at_least(
    min_btc: float,
    *,
    accuracy_key: str = "mean_test_accuracy",
    btc_key: str = "mean_test_btc",
) -> Callable[[dict], int]:
    """A ``refit=`` callable: the most accurate candidate whose BTC >= ``min_btc``.

    Parameters
    ----------
    min_btc : float
        Lowest acceptable mean BTC, in ``[0, 1]``.
    accuracy_key, btc_key : str
        Keys of ``cv_results_`` to read (the defaults match
        :func:`compatibility_scoring`).

    Returns
    -------
    callable
        ``refit(cv_results) -> index`` for ``GridSearchCV(refit=...)``. When no
        candidate reaches ``min_btc``, it warns and picks the candidate with the
        highest BTC. Ties in accuracy go to the candidate listed first.

    Examples
    --------
    >>> refit = best_accuracy_with_btc_at_least(0.9)
    >>> refit({"mean_test_accuracy": [0.95, 0.93, 0.90],
    ...        "mean_test_btc": [0.85, 0.92, 0.97]})
    1
    """
    if (
        isinstance(min_btc, bool)
        or not isinstance(min_btc, numbers.Real)
        or not 0 <= min_btc <= 1
    ):
        raise ValueError(f"min_btc must be a number in [0, 1], got {min_btc!r}.")

    return _MostAccurateWithBTC(min_btc, accuracy_key, btc_key)


class _MostAccurateWithBTC:
    """The rule :func:`best_accuracy_with_btc_at_least` returns.

    A class rather than a closure so that a fitted search holding it as
    ``refit`` pickles.
    """

    def __init__(self, min_btc: float, accuracy_key: str, btc_key: str) -> None:
        self.min_btc = min_btc
        self.accuracy_key = accuracy_key
        self.btc_key = btc_key
        self.__name__ = f"best_accuracy_with_btc_at_least_{min_btc}"

    def __call__(self, cv_results: Mapping) -> int:
        try:
            accuracy = np.asarray(cv_results[self.accuracy_key], dtype=float)
            btc = np.asarray(cv_results[self.btc_key], dtype=float)
        except KeyError as missing:
            raise KeyError(
                f"cv_results_ has no {missing}: score with "
                "scoring=compatibility_scoring() (or pass accuracy_key/btc_key)."
            ) from None
        eligible = np.flatnonzero(np.nan_to_num(btc, nan=-1.0) >= self.min_btc)
        if eligible.size == 0:
            best = int(np.nanargmax(btc))
            warnings.warn(
                f"No candidate reaches BTC >= {self.min_btc} (the highest mean BTC "
                f"is {btc[best]:.4f}); refitting the most compatible candidate.",
                UserWarning,
                stacklevel=2,
            )
            return best
        return int(eligible[np.argmax(accuracy[eligible])])

    def __repr__(self) -> str:
        return f"best_accuracy_with_btc_at_least({self.min_btc!r})"


# -- refit rules that read the new errors ------------------------------------------

# Mean CV scores are means of multiples of 1/n_test: values equal on paper can
# differ in the last bits, so comparisons allow this much (as bcsk.gate does).
_SLACK = 1e-12


def _param_column(cv_results: Mapping, name: str) -> str | None:
    """The ``cv_results_`` key of parameter ``name``, or None when there is none.

    ``param_<name>``, else the one ``param_<step>__<name>`` of a Pipeline step;
    with several such columns it is unknown which one counts, so none does.
    """
    if f"param_{name}" in cv_results:
        return f"param_{name}"
    steps = [
        key
        for key in cv_results
        if isinstance(key, str)
        and key.startswith("param_")
        and key.endswith(f"__{name}")
    ]
    return steps[0] if len(steps) == 1 else None


def _param_values(cv_results: Mapping, name: str, n: int, default: float):
    """Parameter ``name`` of each candidate as floats; ``default`` where unset.

    A missing column, a masked entry (a candidate of a list-of-grids search
    that did not set it), None or a value that is not a number all count as
    ``default``.
    """
    values = np.full(n, default, dtype=float)
    key = _param_column(cv_results, name)
    if key is None:
        return values
    column = cv_results[key]
    mask, data = np.ma.getmaskarray(column), np.ma.getdata(column)
    if len(data) != n:
        raise ValueError(
            f"cv_results_[{key!r}] has {len(data)} entries but there are {n} "
            "candidates; pass the cv_results_ of one search."
        )
    for i, (masked, value) in enumerate(zip(mask.tolist(), data.tolist(), strict=True)):
        if masked or isinstance(value, bool) or not isinstance(value, numbers.Real):
            continue
        if not np.isnan(value):
            values[i] = float(value)
    return values


def _simplest(cv_results: Mapping, candidates: np.ndarray, n: int) -> int:
    """The simplest of ``candidates`` (indices into the rows of ``cv_results``).

    Plain (``lambda_c == 0``) before trained, then fewer ``n_members``, then
    smaller ``lambda_c``, then smaller ``flip_cost``, then the earlier row. An
    unknown ``lambda_c`` ranks after every known one (so when no candidate has
    one, the key is the same for all); ``n_members`` and ``flip_cost`` default
    to 1.
    """
    lambda_c = _param_values(cv_results, "lambda_c", n, np.nan)
    trained = ~(lambda_c == 0)  # unknown counts as "not known to be plain"
    lambda_c = np.where(np.isnan(lambda_c), np.inf, lambda_c)
    members = _param_values(cv_results, "n_members", n, 1.0)
    flip_cost = _param_values(cv_results, "flip_cost", n, 1.0)
    keys = (trained, members, lambda_c, flip_cost)
    # lexsort sorts by its last key first.
    order = np.lexsort((candidates, *(key[candidates] for key in reversed(keys))))
    return int(candidates[order[0]])


class _RefitRule:
    """A picklable ``refit(cv_results) -> index`` that reads accuracy and NFR.

    Subclasses give each candidate a score (greater is better) and say which
    candidates may be chosen; the best score wins, and the candidates within
    ``_SLACK`` of it are tied and go to :func:`_simplest`.
    """

    _factory = ""  # the public function that builds the rule
    # An upper bound on the worst group's mean new-error rate (None: none),
    # read from minus it at worst_group_key; class defaults keep rules
    # pickled before the bound existed loading.
    max_worst_group_nfr: float | None = None
    worst_group_key: str = "mean_test_neg_worst_group_nfr"

    def __init__(self, accuracy_key: str, nfr_key: str) -> None:
        self.accuracy_key = accuracy_key
        self.nfr_key = nfr_key

    def _rule(self, accuracy: np.ndarray, neg_nfr: np.ndarray, valid: np.ndarray):
        """``(score, eligible, slack)`` from the defined (``valid``) candidates."""
        raise NotImplementedError

    def _arguments(self) -> str:
        raise NotImplementedError

    def __call__(self, cv_results: Mapping) -> int:
        """Index of the chosen candidate in ``cv_results`` (``cv_results_``).

        Parameters
        ----------
        cv_results : dict
            A search's ``cv_results_``, with ``accuracy_key`` and ``nfr_key``
            (and, for the ties, ``param_lambda_c``, ``param_n_members`` and
            ``param_flip_cost`` where present).

        Returns
        -------
        int
        """
        try:
            accuracy = np.asarray(cv_results[self.accuracy_key], dtype=float)
            neg_nfr = np.asarray(cv_results[self.nfr_key], dtype=float)
        except KeyError as missing:
            raise KeyError(
                f"cv_results_ has no {missing}: score with "
                "scoring=compatibility_scoring() (its keys are accuracy, btc, bec, "
                "neg_nfr, ...), or pass accuracy_key/nfr_key to "
                f"{self._factory}."
            ) from None
        if accuracy.shape != neg_nfr.shape or accuracy.ndim != 1:
            raise ValueError(
                f"cv_results_[{self.accuracy_key!r}] and cv_results_"
                f"[{self.nfr_key!r}] must hold one value per candidate; got shapes "
                f"{accuracy.shape} and {neg_nfr.shape}."
            )
        valid = np.isfinite(accuracy) & np.isfinite(neg_nfr)
        if not valid.any():
            raise ValueError(
                f"No candidate has both a {self.accuracy_key} and a {self.nfr_key} "
                f"(they are NaN for all {accuracy.size} candidates), so "
                f"{self._factory} has nothing to choose from. A search scores NaN "
                "where a fit or a score failed (error_score=np.nan): look at its "
                "warnings, or pass error_score='raise' to see the error."
            )
        score, eligible, slack = self._rule(accuracy, neg_nfr, valid)
        eligible &= valid
        if self.max_worst_group_nfr is not None:
            eligible = self._within_group_bound(cv_results, eligible, valid)
        best = np.max(score[eligible])
        tied = np.flatnonzero(eligible & (score >= best - slack))
        return _simplest(cv_results, tied, accuracy.size)

    def _within_group_bound(self, cv_results, eligible, valid):
        """``eligible`` less the candidates over ``max_worst_group_nfr``.

        When that leaves none, warn and keep the valid candidates with the
        lowest worst-group new-error rate.
        """
        try:
            worst = -np.asarray(cv_results[self.worst_group_key], dtype=float)
        except KeyError:
            raise KeyError(
                f"cv_results_ has no {self.worst_group_key!r}: to bound the worst "
                "group, score with a dict holding make_worst_group_nfr_scorer() "
                "under 'neg_worst_group_nfr' (or pass worst_group_key)."
            ) from None
        known = valid & np.isfinite(worst)
        within = eligible & known & (worst <= self.max_worst_group_nfr + _SLACK)
        if within.any():
            return within
        if not known.any():
            raise ValueError(
                f"No candidate has a {self.worst_group_key} (NaN for all): a "
                "search scores NaN where a fit or a score failed."
            )
        lowest = np.min(worst[known])
        warnings.warn(
            f"No candidate within the rule keeps the worst group's new-error "
            f"rate <= {self.max_worst_group_nfr} (the lowest mean is "
            f"{lowest:.4f}); refitting the candidate with the lowest.",
            UserWarning,
            stacklevel=3,
        )
        return known & (worst <= lowest + _SLACK)

    def __repr__(self) -> str:
        keys = ""
        if self.max_worst_group_nfr is not None:
            keys += f", max_worst_group_nfr={self.max_worst_group_nfr!r}"
        if self.worst_group_key != "mean_test_neg_worst_group_nfr":
            keys += f", worst_group_key={self.worst_group_key!r}"
        if self.accuracy_key != "mean_test_accuracy":
            keys += f", accuracy_key={self.accuracy_key!r}"
        if self.nfr_key != "mean_test_neg_nfr":
            keys += f", nfr_key={self.nfr_key!r}"
        return f"{self._factory}({self._arguments()}{keys})"


class _FewestNewErrorsWithin(_RefitRule):
    r"""Refit rule: the fewest new errors within an accuracy budget.

    With :math:`a_i` the mean CV accuracy of candidate :math:`i`,
    :math:`\mathrm{NFR}_i` its mean negative flip rate and :math:`b` the
    budget, it returns

    .. math::

        \hat\imath = \operatorname*{arg\,min}_{i \,:\, a_i \ge \max_j a_j - b}
        \mathrm{NFR}_i ,

    ties going to the simplest candidate. Built by
    :func:`fewest_new_errors_within`.
    """

    _factory = "fewest_new_errors_within"

    def __init__(self, accuracy_budget: float, accuracy_key: str, nfr_key: str):
        super().__init__(accuracy_key, nfr_key)
        self.accuracy_budget = accuracy_budget
        self.__name__ = f"fewest_new_errors_within_{accuracy_budget}"

    def _rule(self, accuracy, neg_nfr, valid):
        floor = np.max(accuracy[valid]) - self.accuracy_budget - _SLACK
        return neg_nfr, accuracy >= floor, _SLACK

    def _arguments(self) -> str:
        return f"accuracy_budget={self.accuracy_budget!r}"


class _LowestUpdateCost(_RefitRule):
    r"""Refit rule: the fewest expected errors when a new error counts more.

    With :math:`a_i` the mean CV accuracy of candidate :math:`i`,
    :math:`\mathrm{NFR}_i` its mean negative flip rate and :math:`c` the cost
    of a new error, it returns

    .. math::

        \hat\imath = \operatorname*{arg\,max}_i \; a_i - (c - 1)\,\mathrm{NFR}_i ,

    ties going to the simplest candidate. Built by :func:`lowest_update_cost`.
    """

    _factory = "lowest_update_cost"

    def __init__(self, new_error_cost: float, accuracy_key: str, nfr_key: str):
        super().__init__(accuracy_key, nfr_key)
        self.new_error_cost = new_error_cost
        self.__name__ = f"lowest_update_cost_{new_error_cost}"

    def _rule(self, accuracy, neg_nfr, valid):
        # neg_nfr holds -NFR. The slack grows with the factor that scales NFR.
        score = accuracy + (self.new_error_cost - 1) * neg_nfr
        return score, valid.copy(), _SLACK * self.new_error_cost

    def _arguments(self) -> str:
        return f"new_error_cost={self.new_error_cost!r}"


# The docstring sections the refit rules share (see bcsk._docstrings).
_RULE_DOCS = dict(
    returns="""callable
    ``refit(cv_results) -> index`` for ``GridSearchCV(refit=...)``,
    :class:`~bcsk.BCCompatibleClassifierCV` and
    :class:`~bcsk.CompatibleUpdateClassifierCV`. It pickles with the search.
    Ties go to the simplest candidate: plain (``lambda_c == 0``) before
    trained, then fewer ``n_members``, then smaller ``lambda_c``, then
    smaller ``flip_cost``, then the candidate listed first. They are read
    from ``param_lambda_c`` (or the one ``param_<step>__lambda_c`` of a
    Pipeline), ``param_n_members`` and ``param_flip_cost``; where a column
    is missing or an entry masked, ``n_members`` and ``flip_cost`` count
    as 1 and ``lambda_c`` as unknown (after every known value).
    Candidates with a NaN score are never chosen.
""",
    keys="""accuracy_key, nfr_key : str
    Keys of ``cv_results_`` holding the mean accuracy and minus the mean
    negative flip rate (the defaults match :func:`compatibility_scoring`).
""",
    worst_group_key="""worst_group_key : str, default="mean_test_neg_worst_group_nfr"
    Key of ``cv_results_`` holding minus the worst group's new-error rate.
""",
)


@_docstrings.fill(**_RULE_DOCS)
def fewest_new_errors_within(
    accuracy_budget: float = 0.005,
    *,
    accuracy_key: str = "mean_test_accuracy",
    nfr_key: str = "mean_test_neg_nfr",
    max_worst_group_nfr: float | None = None,
    worst_group_key: str = "mean_test_neg_worst_group_nfr",
) -> Callable[[Mapping], int]:
    r"""A ``refit=`` rule: the fewest new errors, losing at most ``accuracy_budget``.

    Among the candidates whose mean CV accuracy is at least the best mean CV
    accuracy minus ``accuracy_budget``, it chooses the one with the lowest
    mean negative flip rate (the share of samples h1 gets right and the
    candidate gets wrong):

    .. math::

        \hat\imath = \operatorname*{arg\,min}_{i \,:\, a_i \ge \max_j a_j - b}
        \mathrm{NFR}_i .

    The most accurate candidate always qualifies, so one is always chosen.

    Parameters
    ----------
    accuracy_budget : float, default=0.005
        :math:`b`, the mean CV accuracy (a fraction: 0.005 is half a point)
        that may be given up for fewer new errors, in ``[0, 1]``. 0 keeps the
        most accurate candidates only; 1 takes the fewest new errors whatever
        the accuracy.
    %(keys)s
    max_worst_group_nfr : float in [0, 1], optional
        Also keep the worst group's mean new-error rate at most this: only
        the candidates within it may be chosen (when none is, the rule warns
        and chooses among those with the lowest). Needs
        :func:`~bcsk.metrics.make_worst_group_nfr_scorer` in the scoring.
    %(worst_group_key)s

    Returns
    -------
    %(returns)s

    See Also
    --------
    lowest_update_cost : Trade accuracy for new errors at a given price.
    best_accuracy_with_btc_at_least : The most accurate candidate above a BTC.

    Examples
    --------
    The second candidate loses 0.3 points of accuracy and halves the new
    errors; the third loses too much:

    >>> refit = fewest_new_errors_within(0.005)
    >>> refit({"mean_test_accuracy": [0.950, 0.947, 0.930],
    ...        "mean_test_neg_nfr": [-0.040, -0.020, -0.005]})
    1
    >>> refit.__name__
    'fewest_new_errors_within_0.005'
    """
    if (
        isinstance(accuracy_budget, bool)
        or not isinstance(accuracy_budget, numbers.Real)
        or not 0 <= accuracy_budget <= 1  # False for NaN
    ):
        raise ValueError(
            "accuracy_budget must be a number in [0, 1], the mean CV accuracy (a "
            f"fraction) that may be given up for fewer new errors; got "
            f"{accuracy_budget!r}. For half a point, pass accuracy_budget=0.005."
        )
    return _bound_worst_group(
        _FewestNewErrorsWithin(float(accuracy_budget), accuracy_key, nfr_key),
        max_worst_group_nfr,
        worst_group_key,
    )


@_docstrings.fill(**_RULE_DOCS)
def lowest_update_cost(
    new_error_cost: float = 2.0,
    *,
    accuracy_key: str = "mean_test_accuracy",
    nfr_key: str = "mean_test_neg_nfr",
    max_worst_group_nfr: float | None = None,
    worst_group_key: str = "mean_test_neg_worst_group_nfr",
) -> Callable[[Mapping], int]:
    r"""A ``refit=`` rule: the fewest errors when a new error counts ``new_error_cost``.

    Every error costs 1, and an error on a sample h1 got right (a new error)
    costs ``new_error_cost``: the expected cost per sample of candidate
    :math:`i` is :math:`(1 - a_i) + (c - 1)\,\mathrm{NFR}_i`, so the rule
    chooses

    .. math::

        \hat\imath = \operatorname*{arg\,max}_i \; a_i - (c - 1)\,\mathrm{NFR}_i ,

    with :math:`a_i` the mean CV accuracy and :math:`\mathrm{NFR}_i` the mean
    negative flip rate.

    Parameters
    ----------
    new_error_cost : float, default=2.0
        :math:`c \ge 1`, finite: how many ordinary errors one new error is
        worth. 1 chooses the most accurate candidate; large values choose the
        fewest new errors.
    %(keys)s
    max_worst_group_nfr : float in [0, 1], optional
        Also keep the worst group's mean new-error rate at most this; see
        :func:`fewest_new_errors_within`.
    %(worst_group_key)s

    Returns
    -------
    %(returns)s

    See Also
    --------
    fewest_new_errors_within : The fewest new errors within an accuracy budget.
    best_accuracy_with_btc_at_least : The most accurate candidate above a BTC.

    Examples
    --------
    With a new error worth two errors, the scores are 0.95 - 0.04 = 0.91,
    0.94 - 0.02 = 0.92 and 0.90 - 0.00 = 0.90:

    >>> refit = lowest_update_cost(2.0)
    >>> refit({"mean_test_accuracy": [0.95, 0.94, 0.90],
    ...        "mean_test_neg_nfr": [-0.04, -0.02, 0.0]})
    1
    >>> lowest_update_cost(10.0)({"mean_test_accuracy": [0.95, 0.94, 0.90],
    ...                           "mean_test_neg_nfr": [-0.04, -0.02, 0.0]})
    2
    """
    if (
        isinstance(new_error_cost, bool)
        or not isinstance(new_error_cost, numbers.Real)
        or not 1 <= new_error_cost < np.inf  # False for NaN
    ):
        raise ValueError(
            "new_error_cost must be a finite number >= 1, how many ordinary errors "
            f"one new error is worth; got {new_error_cost!r}. For a new error that "
            "costs twice an ordinary one, pass new_error_cost=2.0; to minimise the "
            "new errors alone, use fewest_new_errors_within(1.0)."
        )
    return _bound_worst_group(
        _LowestUpdateCost(float(new_error_cost), accuracy_key, nfr_key),
        max_worst_group_nfr,
        worst_group_key,
    )


def _bound_worst_group(rule: _RefitRule, bound, key: str) -> _RefitRule:
    """``rule``, with its candidates bounded by the worst group's new-error rate."""
    if bound is not None:
        if (
            isinstance(bound, bool)
            or not isinstance(bound, numbers.Real)
            or not 0 <= bound <= 1  # False for NaN
        ):
            raise ValueError(
                "max_worst_group_nfr must be a number in [0, 1], the highest "
                f"mean new-error rate of any group; got {bound!r}. For 2 %, pass "
                "max_worst_group_nfr=0.02."
            )
        rule.max_worst_group_nfr = float(bound)
    rule.worst_group_key = key
    return rule
