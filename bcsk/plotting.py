"""Old home of the Displays, kept so that old imports work: see :mod:`bcsk.metrics`."""

from bcsk.metrics._plot.compatibility import CompatibilityDisplay
from bcsk.metrics._plot.flip_cost import FlipCostDisplay
from bcsk.metrics._plot.tradeoff import CompatibilityTradeoffDisplay

__all__ = ["CompatibilityDisplay", "CompatibilityTradeoffDisplay", "FlipCostDisplay"]
