"""Write the upper atmosphere's piecewise cubics that ``shieldlab.earth`` reads at import
(``src/shieldlab/data/us76_upper.npz``): built by SciPy from the U.S. Standard Atmosphere
1976's Table I (:func:`shieldlab.earth.upper_interpolants`), stored so that importing
shieldlab does not import ``scipy.interpolate`` (~0.4 s of every command).

Usage (by a maintainer, after changing the table or the interpolation)::

    python tools/us76_upper_to_npz.py src/shieldlab/data/us76_upper.npz

``tests/test_earth.py`` holds the file equal to a fresh build, bit for bit.
"""

from __future__ import annotations

import sys

import numpy as np

from shieldlab import earth


def main(path: str) -> None:
    np.savez(path, **earth.upper_interpolants())


if __name__ == "__main__":
    main(sys.argv[1])
