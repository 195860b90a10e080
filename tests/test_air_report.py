"""The air picture's report: its run map laid out on the page."""

from __future__ import annotations

import pytest

import shieldlab
from shieldlab.engine.air import simulate_air
from shieldlab.io import air_report


@pytest.mark.parametrize("preset", ["kalibr-caspian-2015", "turkey-airspace-2015"])
def test_the_run_map_holds_its_legend_and_axes_on_the_page(preset, monkeypatch):
    """The overview's legend stands right of the map, inside the page, and the latitude axis's
    label is on the page too: a 12-inch page held a 9-inch map and a 3.5-inch legend, so the
    legend ran off the page's right edge and the layout cut the latitude label on the left
    (kalibr-caspian-2015)."""
    world = shieldlab.load_world(preset)
    res = simulate_air(world, runs=2, seed=1)
    figures = []
    real = air_report._png

    def keep(fig, **kw):
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        ax = fig.axes[0]
        figures.append((fig.bbox, ax.get_legend().get_window_extent(r), ax.yaxis.label.get_window_extent(r),
                        ax.get_window_extent(r)))
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    page, legend, ylabel, axes = figures[0]  # the overview comes first
    assert legend.x0 >= axes.x1 - 1 and legend.x1 <= page.x1 + 1 and legend.y0 >= page.y0 - 1
    assert ylabel.x0 >= page.x0 - 1 and ylabel.width > 0


def test_an_interval_of_negative_numbers_reads_without_a_dash_between_minuses():
    """The air tables printed a margin's interval as "(-0.77–-0.68)": a dash between two minus
    signs; across zero or below it the interval reads "(a to b)"."""
    from shieldlab.io.air_tables import mean_text

    assert mean_text({"mean": -0.72, "ci": [-0.77, -0.68]}, "{:.2f}") == "-0.72 (-0.77 to -0.68)"
    assert mean_text({"mean": 0.1, "ci": [-0.2, 0.4]}, "{:.2f}") == "0.10 (-0.20 to 0.40)"
    assert mean_text({"mean": 1.5, "ci": [1.0, 2.0]}, "{:.1f}") == "1.5 (1.0–2.0)"
