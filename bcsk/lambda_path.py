"""Old home of ``BCCompatibleClassifierCV``, kept so that old imports and pickles work.

The one-call search now lives in :mod:`bcsk.model_selection`.
"""

from bcsk.model_selection._search import BCCompatibleClassifierCV

__all__ = ["BCCompatibleClassifierCV"]
