"""Old home of the dissonances, kept so that old imports work: see bcsk.objective."""

from bcsk.objective import (
    Dissonance,
    FocalDistillation,
    LogitDifference,
    NewError,
    StrictImitation,
    get_dissonance,
)

__all__ = [
    "Dissonance",
    "FocalDistillation",
    "LogitDifference",
    "NewError",
    "StrictImitation",
    "get_dissonance",
]
