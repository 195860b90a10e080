"""The one error type for bad input: it names the file, the field and what is allowed.

The command line turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a user: a scenario, a command-line value, a catalogue entry."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source, self.field, self.message = source, field, message
        where = ": ".join(x for x in (source, field) if x)
        super().__init__(f"{where}: {message}" if where else message)
