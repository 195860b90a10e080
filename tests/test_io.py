"""Atomic output: a file, or a results folder, appears whole, with the mode a plain open()
or mkdir() would give; a failure leaves the earlier one untouched, or nothing."""

import json
import os
import stat

import numpy as np
import pytest

from shieldlab.errors import InputError
from shieldlab.io import output
from shieldlab.io.atomic import atomic_path, write_text
from shieldlab.io.output import check_out_dir, write_results


def test_atomic_write_has_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert (tmp_path / "a.json").read_text() == "{}"


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "b.png") as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


# --- results folders -----------------------------------------------------------------------------
SUMMARY = {"scenario": "s", "runs": 2}
OUTCOMES = {"run": np.array([0, 1], np.int32), "outcome": np.array(["leaked", "intercepted"], dtype=object)}
EVENTS = {"run": np.array([0], np.int32), "kind": np.array(["launch"], dtype=object)}


def _snapshot(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_results_folder_written_whole(tmp_path):
    old = os.umask(0o022)
    try:
        paths = write_results(tmp_path / "a" / "res", SUMMARY, OUTCOMES, EVENTS)
    finally:
        os.umask(old)
    d = tmp_path / "a" / "res"
    assert sorted(p.name for p in paths) == ["events.parquet", "outcomes.parquet", "summary.json"]
    assert sorted(p.name for p in d.iterdir()) == ["events.parquet", "outcomes.parquet", "summary.json"]
    assert json.loads((d / "summary.json").read_text()) == SUMMARY
    assert stat.S_IMODE(d.stat().st_mode) == 0o755
    assert stat.S_IMODE((d / "summary.json").stat().st_mode) == 0o644
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["res"]  # no temporary folder left


@pytest.mark.parametrize("fails_at", [1, 2])
def test_failure_while_writing_leaves_the_old_folder_untouched(tmp_path, monkeypatch, fails_at):
    d = tmp_path / "res"
    write_results(d, SUMMARY, OUTCOMES, EVENTS)
    before = _snapshot(d)
    real, calls = output.write_parquet, []

    def flaky(columns, path, **kw):
        calls.append(path)
        if len(calls) == fails_at:
            raise OSError(28, "No space left on device")
        real(columns, path, **kw)

    monkeypatch.setattr(output, "write_parquet", flaky)
    with pytest.raises(OSError):
        write_results(d, {"scenario": "new", "runs": 9}, OUTCOMES, EVENTS, force=True)
    assert _snapshot(d) == before
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_failure_while_writing_a_new_folder_leaves_nothing(tmp_path, monkeypatch):
    def fail(columns, path, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output, "write_parquet", fail)
    with pytest.raises(OSError):
        write_results(tmp_path / "res", SUMMARY, OUTCOMES, EVENTS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exchange", [True, False])
def test_force_replaces_the_folder_whole(tmp_path, monkeypatch, exchange):
    if not exchange:  # where the system cannot swap two folders in one step
        monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    d = tmp_path / "res"
    write_results(d, SUMMARY, OUTCOMES, EVENTS)
    (d / "events.parquet").unlink()
    with pytest.raises(InputError) as e:
        write_results(d, {"scenario": "new"}, OUTCOMES, EVENTS)
    assert e.value.field == "--out" and "--force" in str(e.value)
    write_results(d, {"scenario": "new"}, OUTCOMES, {"run": np.array([], np.int32)}, force=True)
    assert json.loads((d / "summary.json").read_text()) == {"scenario": "new"}
    assert sorted(p.name for p in d.iterdir()) == ["events.parquet", "outcomes.parquet", "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_check_out_dir_refusals(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    for path, force, words in ((tmp_path / "file", False, "not a folder"),
                               (tmp_path / "file" / "res", False, "is a file"),
                               (tmp_path / "other", True, "notes.txt")):
        with pytest.raises(InputError) as e:
            check_out_dir(path, force=force)
        assert e.value.field == "--out" and words in str(e.value)
    assert check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_files_made_after_the_tables_join_the_folder_or_nothing_is_written(tmp_path):
    """The scene and the report are made one at a time once the tables are written (a long
    run's peak memory): a generator of (name, text).  Each is made only after the tables are
    on disk; one that fails leaves no folder and no temporary one."""
    seen = []

    def files(fail: bool):
        seen.append(sorted(p.name for p in tmp_path.glob(".res.*.tmp/*")))  # the tables, written
        yield "scene.czml", "{}"
        if fail:
            raise RuntimeError("the report failed")
        yield "report.html", "<html></html>"

    with pytest.raises(RuntimeError):
        write_results(tmp_path / "res", SUMMARY, OUTCOMES, EVENTS, extra=files(True))
    assert not (tmp_path / "res").exists() and not list(tmp_path.iterdir())
    paths = write_results(tmp_path / "res", SUMMARY, OUTCOMES, EVENTS, extra=files(False))
    assert seen[-1] == ["events.parquet", "outcomes.parquet", "summary.json"]
    assert [p.name for p in paths][-2:] == ["scene.czml", "report.html"]
    assert (tmp_path / "res" / "report.html").read_text() == "<html></html>"
