"""``python -m bcsk.report``."""

from bcsk.report._cli import main

raise SystemExit(main())
