"""``python -m shieldlab.cli``: the command line, as ``python -m shieldlab``."""

from shieldlab.cli import entry

entry()
