"""The one error type for bad input: it names the file, the field and what is allowed.

The command line turns it into one line on stderr per problem and exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterable


class InputError(ValueError):
    """Bad input from a user: a scenario, a command-line value, a catalogue entry.

    ``InputError(message, source=..., field=...)`` is one problem.  Several problems found
    together (every bad field of a scenario file) travel in one error:
    ``InputError(problems=[(field, message), ...], source=...)``; ``problems`` then lists them
    all, ``field`` and ``message`` are the first, and ``str(e)`` has one line per problem,
    each ``source: field: message``.  A single-problem error has ``problems`` of length one.
    """

    def __init__(self, message: str = "", *, source: str | None = None, field: str | None = None,
                 problems: Iterable[tuple[str | None, str]] | None = None):
        listed = [(f, str(m)) for f, m in problems] if problems is not None else []
        if not listed:
            listed = [(field, message)]
        elif not message:
            field, message = listed[0]
        self.source, self.field, self.message = source, field, message
        self.problems: list[tuple[str | None, str]] = listed
        super().__init__("\n".join(self._line(f, m) for f, m in listed))

    def _line(self, field: str | None, message: str) -> str:
        where = ": ".join(x for x in (self.source, field) if x)
        return f"{where}: {message}" if where else message


def checked_latlon(lat: float, lon: float, field: str) -> tuple[float, float]:
    """``(lat, lon)`` [deg], finite and within a scenario's bounds (latitude -90 to 90, longitude
    -180 to 180), else an :class:`InputError` naming ``field``: the command line's ``LAT,LON``
    options and the Python API's ``(lat_deg, lon_deg)`` pairs alike."""
    import math

    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InputError(f"expected finite numbers in degrees, got {lat}, {lon}", field=field)
    if not -90.0 <= lat <= 90.0:
        raise InputError(f"latitude {lat} is outside [-90, 90] degrees", field=field)
    if not -180.0 <= lon <= 180.0:
        raise InputError(f"longitude {lon} is outside [-180, 180] degrees", field=field)
    return lat, lon


def shown_value(value: object) -> str:
    """A value as an error message shows it: YAML's word for None, strings quoted, long ones
    cut, a list or mapping by its size (never printed whole: YAML aliases can nest one list
    in itself thousands of times over, and printing it takes exponential time)."""
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"a mapping of {len(value)} key{'' if len(value) == 1 else 's'}"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
        # a whole number as the file likely wrote it: 1e9 read "1000000000.0"
        return f"{value:g}"
    text = repr(value[:61]) if isinstance(value, str) else str(value)[:61]
    return text if len(text) <= 60 else text[:57] + "..."
