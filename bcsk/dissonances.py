"""Old home of the dissonances, kept so that old imports work: see bcsk.objective."""

from bcsk import objective as _objective
from bcsk.objective import *  # noqa: F403
from bcsk.objective._dissonances import DISSONANCES  # noqa: F401

__all__ = _objective.__all__
