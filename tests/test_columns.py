"""Every column of the kill chain's result tables says what it holds and in which unit: in the
Parquet files of a results folder, in Results.to_arrow, and in the user guide."""

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import shieldlab
from shieldlab.io.columns import TABLES

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "user-guide.md"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A results folder of each association: labels (no tracks table) and gnn (tracks)."""
    from shieldlab.scenario import load

    sc = load("epaa-phase-1")
    out = {}
    for assoc in ("labels", "gnn"):
        w = shieldlab.load_world(sc.model_copy(update={"tracking": sc.tracking.model_copy(
            update={"association": assoc})}))
        d = tmp_path_factory.mktemp(assoc) / "res"
        out[assoc] = (shieldlab.simulate(w, runs=2, seed=1, out=d), d)
    return out


@pytest.mark.parametrize("assoc", ["labels", "gnn"])
def test_every_written_column_carries_its_meaning(folders, assoc):
    res, d = folders[assoc]
    tables = ["outcomes", "events", "track_quality"] + (["tracks"] if assoc == "gnn" else [])
    assert sorted(p.stem for p in d.glob("*.parquet")) == sorted(tables)
    for name in tables:
        schema = pq.read_schema(d / f"{name}.parquet")
        for f in schema:
            said = (f.metadata or {}).get(b"description", b"").decode()
            assert said and said == TABLES[name][f.name], (name, f.name)
        # Results.to_arrow gives the same fields, described the same
        arrow = res.to_arrow(name)
        assert arrow.schema.names == schema.names
        assert all(f.metadata[b"description"].decode() == TABLES[name][f.name] for f in arrow.schema)
    # a table described needs no column it does not have: the names are the tables' own
    for name in tables:
        assert set(pq.read_schema(d / f"{name}.parquet").names) <= set(TABLES[name])


def test_the_user_guide_names_every_column():
    """The guide's lists of the columns had left out four of the event log's
    (closing_speed_kms, crossing_angle_deg, pk, pip_sigma_m)."""
    text = GUIDE.read_text()
    named = set(re.findall(r"`([a-z_0-9]+)`", text))
    for name, cols in TABLES.items():
        missing = [c for c in cols if c not in named]
        assert not missing, (name, missing)


@pytest.mark.parametrize("preset, table", [("turkey-airspace-2015", "air_outcomes"),
                                           ("akcakale-2012", "shelling_rounds")])
def test_the_air_pictures_and_the_shellings_tables_say_what_they_hold(preset, table, tmp_path):
    from shieldlab.cli import main
    from shieldlab.io.columns import OTHER_TABLES

    assert main(["run", preset, "--runs", "2", "--out", str(tmp_path / "res"), "--quiet"]) == 0
    schema = pq.read_schema(tmp_path / "res" / f"{table}.parquet")
    assert set(schema.names) == set(OTHER_TABLES[table])
    for f in schema:
        assert f.metadata[b"description"].decode() == OTHER_TABLES[table][f.name], f.name
    named = set(re.findall(r"`([a-z_0-9]+)`", GUIDE.read_text()))
    assert not [c for c in OTHER_TABLES[table] if c not in named]
