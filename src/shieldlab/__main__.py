"""``python -m shieldlab``: the command line."""

from shieldlab.cli import entry

entry()
