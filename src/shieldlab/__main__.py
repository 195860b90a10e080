"""``python -m shieldlab``: the command line."""

from shieldlab.cli import main

raise SystemExit(main())
