"""Entry point for ``python -m spinesense``."""

from spinesense.cli import main

raise SystemExit(main())
