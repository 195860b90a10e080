"""Chunks on Dask workers: the same results, to the bit, as on one process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from shieldlab.engine import distribute
from shieldlab.engine import sweep as S
from shieldlab.engine.chain import chunk_runs, fly_threats
from shieldlab.engine.distribute import client_for
from shieldlab.engine.montecarlo import simulate
from shieldlab.errors import InputError
from shieldlab.scenario import load_world

PRESET = "patriot-turkey-2013"


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        assert x.dtype == y.dtype and x.shape == y.shape, k
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), k
        else:
            assert x.tolist() == y.tolist(), k


@pytest.fixture(scope="module")
def client():
    with client_for(workers=2) as c:
        yield c


def test_two_workers_give_the_runs_of_one_process(client):
    """58 runs (chunks of 24 runs, the last of 10) on two worker processes: every table
    and the summary equal the one-process simulation's, bit for bit."""
    world = load_world(PRESET)
    assert chunk_runs(world) == 24  # three tasks for two workers, the last a short chunk
    one = simulate(world, runs=58, seed=4)
    two = simulate(world, runs=58, seed=4, client=client)
    assert two.summary == one.summary
    _same(two.outcomes, one.outcomes)
    _same(two.events, one.events)
    _same(two.track_quality, one.track_quality)
    assert two.last_chunk is None
    # the public API takes the client too (docs/cluster.md calls it so)
    import shieldlab

    _same(shieldlab.simulate(world, runs=58, seed=4, client=client).outcomes, one.outcomes)
    with pytest.raises(ValueError, match="timings"):
        simulate(world, runs=2, seed=4, client=client, timings={})


def test_a_task_runs_numba_on_one_thread_and_leaves_its_settings_consistent(client):
    """Each chunk's task runs Numba's kernels on one thread (set in the task: a worker of
    `python -m shieldlab` imported Numba before Dask set its environment), and the workers'
    environment does not contradict Numba's configuration (Numba refuses a compile once its
    threads run with another count)."""
    from shieldlab.engine.distribute import one_thread

    def seen():
        import os

        import numba

        return numba.get_num_threads(), os.environ.get("NUMBA_NUM_THREADS"), numba.config.NUMBA_NUM_THREADS

    for threads, env, config in client.run(lambda: one_thread(seen)).values():
        assert threads == 1
        assert env is None or int(env) == config
    assert [r[0] for r in client.gather([client.submit(one_thread, seen, pure=False) for _ in range(4)])] == [1] * 4


def test_a_sweep_on_workers_writes_the_same_dataset(client, tmp_path, monkeypatch):
    """The same files as on one process; each point aimed once (the cluster's path aimed every
    point a second time) and, resumed, aimed as on one process: with the scenario as written at
    hand, so an error the scenario itself makes is named as the scenario's."""
    sets = [S.parse_setting("doctrine.salvo=1,2")]
    S.run_sweep(PRESET, sets, 70, 3, tmp_path / "one")
    seen = []
    calls = []
    aim = S.preflight_point
    monkeypatch.setattr(S, "preflight_point", lambda p, runs, raw=None: calls.append((p.index, raw is not None))
                        or aim(p, runs, raw))
    S.run_sweep(PRESET, sets, 70, 3, tmp_path / "two", client=client, progress=seen.append)
    assert calls == [(0, True), (1, True)]
    assert seen[-1] == 140 and seen == sorted(seen)
    for table in ("outcomes", "events", "track_quality"):
        for point in (0, 1):
            for chunk in (0, 1):
                name = f"{table}/point={point}/chunk-{chunk:05d}.parquet"
                assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    for point in (0, 1):
        name = f"summaries/point={point}.json"
        assert (tmp_path / "one" / name).read_text() == (tmp_path / "two" / name).read_text()
    # a chunk lost: resumed on the workers, the point aimed again with the scenario as written
    calls.clear()
    two = tmp_path / "two"
    lost = two / "outcomes" / "point=1" / "chunk-00001.parquet"
    done = lost.read_bytes()
    manifest = json.loads((two / "sweep.json").read_text())
    (two / "sweep.json").write_text(json.dumps({**manifest, "complete": False}))
    for f in [*two.glob("*/point=1/*00001*"), two / "summaries" / "point=1.json"]:  # (done/ too)
        f.unlink()
    S.run_sweep(PRESET, sets, 70, 3, tmp_path / "two", client=client, resume=True)
    assert calls and all(raw for _, raw in calls) and lost.read_bytes() == done


def test_workers_and_scheduler_are_checked(monkeypatch):
    with pytest.raises(InputError, match="not both"):
        with client_for(workers=2, scheduler="tcp://127.0.0.1:1"):
            pass
    with pytest.raises(InputError, match="nothing listens at tcp://127.0.0.1:1") as e:
        with client_for(scheduler="tcp://127.0.0.1:1"):
            pass
    assert e.value.field == "--scheduler"
    r = subprocess.run([sys.executable, "-m", "shieldlab", "run", PRESET, "--runs", "2", "--workers", "0"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "--workers" in r.stderr


def test_local_workers_are_at_most_the_chunks_and_the_cores(monkeypatch, tmp_path, capsys):
    """--workers 100 on a run of one chunk started 100 worker processes (load 95, 10 GB, no
    answer in 12 minutes): a run starts at most one worker per chunk and per core, a sweep
    one per core, and says so."""
    from contextlib import contextmanager

    from shieldlab.cli import main

    got = []

    @contextmanager
    def fake(workers=None, scheduler=None):
        got.append(workers)
        yield None

    monkeypatch.setattr(distribute, "client_for", fake)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert main(["run", PRESET, "--runs", "8", "--workers", "100", "--out", str(tmp_path / "r")]) == 0
    assert "--workers 100: starting 1 worker (the run has 1 chunk" in capsys.readouterr().err
    assert main(["sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "2", "--workers", "100",
                 "--out", str(tmp_path / "s")]) == 0
    assert "starting 2 workers (one per core" in capsys.readouterr().err
    assert main(["run", PRESET, "--runs", "8", "--workers", "1", "-q", "--out", str(tmp_path / "q")]) == 0
    assert got == [1, 2, 1]
    # with --scheduler too, the conflict is the answer, not a note on the workers started
    monkeypatch.setattr(distribute, "client_for", client_for)
    assert main(["run", PRESET, "--runs", "2", "--workers", "100", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "not both" in err and "starting" not in err


def test_a_worker_with_other_code_is_refused(client, tmp_path):
    """A cluster's worker runs other shieldlab code (another version, other data): its chunks
    would be other numbers, so the run stops with an input error of --scheduler naming it,
    nothing kept; the workers back to this code, the same run goes through."""
    from shieldlab.io import dataset

    world = load_world(PRESET)

    def other():
        dataset.code_digest = lambda: "0" * 64

    def restore():
        import importlib

        importlib.reload(dataset)

    client.run(other)
    try:
        kept = []
        jobs = [distribute.Job(world, fly_threats(world), 0, 2, 1, kept.append)]
        with pytest.raises(InputError, match="runs other shieldlab code") as e:
            distribute.run_chunks(client, jobs)
        assert e.value.field == "--scheduler" and "000000000000" in str(e.value)
        assert kept == []
    finally:
        client.run(restore)
    distribute.run_chunks(client, jobs)
    assert len(kept) == 1 and sorted(set(kept[0]["outcomes"]["run"].tolist())) == [0, 1]


def test_a_cluster_that_goes_away_is_one_error_naming_resume(monkeypatch):
    """The scheduler or the last worker going mid-run (Dask cancels the futures, or its comm
    closes) is one error line of the cluster option that says --resume finishes the job; a
    chunk's own error is raised as it is."""
    import distributed
    from distributed.client import FutureCancelledError

    class Lost:
        def __init__(self, exc):
            self.exc = exc

        def result(self):
            raise self.exc

    class Client:
        def __init__(self, *a, **k):
            pass

        def submit(self, *a, **k):
            return Lost(self.exc)

        def cancel(self, futures):
            pass

        def wait_for_workers(self, *a, **k):  # (a cluster with a worker: the run starts)
            pass

        def close(self):
            pass

        def run(self, fn):  # (every worker runs this code)
            return {"tcp://127.0.0.1:1": fn()}

    monkeypatch.setattr(distributed, "as_completed", lambda futures: iter(list(futures)))
    monkeypatch.setattr(distributed, "Client", Client)
    monkeypatch.setattr(distribute, "_connect", lambda client_type, scheduler: client_type(scheduler))
    job = distribute.Job(None, None, 0, 2, 1, lambda tables: None)
    for exc in (FutureCancelledError("chunk", "scheduler-connection-lost"), OSError("comm closed")):
        Client.exc = exc
        with pytest.raises(InputError, match="stopped running the chunks.*--resume") as e:
            with client_for(scheduler="tcp://127.0.0.1:8786") as c:
                distribute.run_chunks(c, [job])
        assert e.value.field == "--scheduler" and type(exc).__name__ in str(e.value)
    Client.exc = ZeroDivisionError("a defect in the chunk")
    with pytest.raises(ZeroDivisionError):
        with client_for(scheduler="tcp://127.0.0.1:8786") as c:
            distribute.run_chunks(c, [job])


@pytest.mark.parametrize("address", ["foo:bar", "tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "tcp://:8786",
                                     "tcp://127.0.0.1", "tcp://127.0.0.1:8786/x"])
def test_a_scheduler_address_that_cannot_be_one_is_refused_at_once(address):
    """``foo:bar`` was answered with Python's ``invalid literal for int()``, and port 99999 was
    tried for the whole connection timeout."""
    with pytest.raises(InputError, match="HOST:PORT with a port from 1 to 65535") as e:
        distribute.check_cluster_options(None, address)
    assert e.value.field == "--scheduler"
    distribute.check_cluster_options(None, "127.0.0.1:8786")  # Dask's own short form: TCP
    # a TLS scheduler needs certificates the command line does not take (a TypeError's traceback)
    with pytest.raises(InputError, match="tls:// scheduler needs certificates.*client=") as e:
        distribute.check_cluster_options(None, "tls://scheduler.example.org:8786")
    assert e.value.field == "--scheduler"


def test_nothing_listening_is_said_at_once_and_a_port_that_is_no_scheduler_in_seconds(monkeypatch):
    """A refused connection was retried for the whole timeout and said as "timed out"; a port
    that answers but is no scheduler (its dashboard's, any HTTP server) hung for ever in
    Dask's handshake, or read the HTTP reply as a frame length and asked for 3 EiB."""
    import socket
    import threading
    import time

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    t = time.perf_counter()
    with pytest.raises(InputError, match="nothing listens at .*connection refused") as e:
        with client_for(scheduler=f"tcp://127.0.0.1:{port}"):
            pass
    assert e.value.field == "--scheduler" and time.perf_counter() - t < 5
    # a server that takes the connection and never says a word
    monkeypatch.setattr(distribute, "SCHEDULER_TIMEOUT_S", 1)
    monkeypatch.setattr(distribute, "HANDSHAKE_GRACE_S", 1)
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen()
    held = []
    threading.Thread(target=lambda: held.append(mute.accept()), daemon=True).start()
    try:
        t = time.perf_counter()
        with pytest.raises(InputError, match="is not a Dask scheduler") as e:
            with client_for(scheduler=f"tcp://127.0.0.1:{mute.getsockname()[1]}"):
                pass
        assert e.value.field == "--scheduler" and time.perf_counter() - t < 10
    finally:
        mute.close()


def test_workers_with_other_code_are_named_before_anything_is_written():
    """Found by the first chunk, a worker with other code left a sweep's folder that blocked the
    same command after (and named its host alone, one of many workers a host)."""
    from shieldlab.io.dataset import code_digest

    class Client:
        def run(self, fn):
            return {"tcp://10.0.0.7:40001": fn(), "tcp://10.0.0.8:40002": "f" * 64}

    with pytest.raises(InputError, match=r"the worker tcp://10.0.0.8:40002 runs other shieldlab code \(digest "
                                         r"ffffffffffff, this process " + code_digest()[:12]) as e:
        distribute._same_code(Client())
    assert e.value.field == "--scheduler"


def test_ctrl_c_with_local_workers_ends_quietly(tmp_path):
    """Ctrl-C reaches the whole process group: each local worker printed its KeyboardInterrupt's
    traceback (66 lines for two) while the command shut the cluster down.  The workers start
    with SIGINT ignored; the command ends with 130 and nothing on stderr."""
    import os
    import signal
    import time

    out = tmp_path / "sw"
    p = subprocess.Popen([sys.executable, "-m", "shieldlab", "sweep", PRESET, "--set", "doctrine.salvo=1,2",
                          "--runs", "2000", "--workers", "2", "--out", str(out), "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        t = time.monotonic()  # the workers are running chunks once the first is written
        while not any(out.glob("outcomes/**/*.parquet")) and time.monotonic() - t < 240 and p.poll() is None:
            time.sleep(0.2)
        assert p.poll() is None, p.communicate()
        os.killpg(p.pid, signal.SIGINT)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 130 and err == "", err


def test_a_scheduler_without_workers_is_one_error_naming_it(monkeypatch):
    """A cluster whose last worker had gone before the run: a traceback ending in Dask's
    ``TimeoutError: No valid workers found``, exit code 1."""
    from distributed import LocalCluster

    monkeypatch.setattr(distribute, "SCATTER_TIMEOUT_S", 1)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster:  # (any free port)
        with pytest.raises(InputError, match="has no workers.*dask worker") as e:
            with client_for(scheduler=cluster.scheduler_address) as c:
                distribute.scatter(c, {"world": 1})
    assert e.value.field == "--scheduler" and cluster.scheduler_address in str(e.value)


def test_a_sweep_on_a_scheduler_without_workers_writes_nothing(monkeypatch, tmp_path):
    """The sweep's folder was made (its manifest alone) before the cluster was found to have no
    worker; the error said to run the command again, which was then refused for that folder."""
    from distributed import LocalCluster
    from test_cli import cli

    monkeypatch.setattr(distribute, "SCATTER_TIMEOUT_S", 1)
    out = tmp_path / "sw"
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster:
        r = cli("sweep", "patriot-turkey-2013", "--set", "doctrine.salvo=1,2", "--runs", "2", "--out", str(out),
                "--scheduler", cluster.scheduler_address, "-q")
    assert r.returncode == 2 and "error: --scheduler: the scheduler at" in r.stderr and "has no workers" in r.stderr
    assert not out.exists()


def test_local_workers_serve_no_page_on_the_network_nor_at_a_fixed_port():
    """dashboard_address=None still served the scheduler's pages on every interface at 8787: a
    second run at once warned the port was taken.  Two local clusters at once: no warning, each
    on this machine alone."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with client_for(workers=1) as a, client_for(workers=1) as b:
            hosts = [c.cluster.scheduler.http_server.address for c in (a, b)]
    assert all(h.startswith("127.0.0.1") for h in hosts), hosts
