"""``python -m bcsk.demo``."""

from bcsk.demo._cli import main

raise SystemExit(main())
