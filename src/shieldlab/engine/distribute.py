"""Chunks of runs on a Dask cluster: local worker processes or a cluster's scheduler.

A chunk of runs is a pure function of the world, the nominal flights, the seed and the
chunk's first run (:func:`shieldlab.engine.chain.run_streams`), so chunks may run in any
process and in any order: :func:`chunk_tables` is that function, returning the chunk's
result tables, and :func:`run_chunks` spreads a list of chunks over a
``distributed.Client`` and hands each result to its sink as it arrives.  The tables are
the same, to the bit, as those of the loop in :func:`shieldlab.engine.montecarlo.simulate`
on one process (a test compares them byte for byte).

``workers=N`` starts a ``distributed.LocalCluster`` of N single-threaded worker processes
on this machine (the kernels run one trajectory per core; threads would share a process's
GIL between NumPy calls), each with Numba's (:func:`one_thread`) and the BLAS's thread pools at one thread;
``scheduler="tcp://HOST:PORT"`` connects to a running cluster
(``dask scheduler`` and ``dask worker`` on the machines, or dask-jobqueue, or the Dask
Kubernetes operator), whose workers need the same shieldlab, NumPy and Numba installed:
every task checks its worker's code against this process's (:func:`checked`).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from shieldlab.engine.chain import ChunkResult, run_chunk
from shieldlab.errors import InputError
from shieldlab.io.results import event_columns, outcome_columns
from shieldlab.outcome import track_quality, track_table


def result_tables(world, chunk: ChunkResult) -> dict[str, dict[str, np.ndarray]]:
    """A chunk's result tables (:data:`shieldlab.engine.montecarlo.TABLES`): ``outcomes``,
    ``events`` (:mod:`shieldlab.io.results`), ``track_quality``
    (:mod:`shieldlab.outcome.track_quality`) and ``tracks`` (the confirmed tracks of the
    multi-target tracker, :func:`shieldlab.outcome.track_table.chunk_columns`; no columns
    where the chunk tracked by labels)."""
    return {"outcomes": outcome_columns(world, chunk), "events": event_columns(world, chunk),
            "track_quality": track_quality.columns(world, chunk), "tracks": track_table.chunk_columns(world, chunk)}


def chunk_tables(world, flights, first: int, C: int, seed: int, timings: dict | None = None,
                 on_chunk: Callable[[ChunkResult], None] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Runs ``first`` .. ``first + C - 1`` of ``world`` with ``seed``: their result tables
    (:func:`result_tables`)."""
    chunk = run_chunk(world, flights, first, C, np.random.SeedSequence(seed), timings)
    if on_chunk is not None:
        on_chunk(chunk)
    return result_tables(world, chunk)


def one_thread(fn: Callable, *args):
    """``fn(*args)`` with Numba's kernels on one thread (a worker is one core's).

    Set per call, in the thread that runs the task (Numba's count is per thread), rather
    than through ``NUMBA_NUM_THREADS`` in the workers' environment: a worker spawned for
    ``python -m shieldlab`` imports Numba with the command's main module before Dask sets
    its environment, so its kernels kept every core (``numba.get_num_threads()`` gave 2
    with ``NUMBA_NUM_THREADS=1`` set), and the two values disagreeing is what Numba
    refuses once its threads run."""
    import numba

    numba.set_num_threads(1)
    return fn(*args)


class OtherCode(RuntimeError):
    """A worker's shieldlab is not this process's: other modules, data, NumPy or Numba
    (:func:`shieldlab.io.dataset.code_digest` differs), so its chunks would not be these
    numbers."""


class ClusterLost(RuntimeError):
    """The cluster stopped running the chunks: its scheduler went, or its last worker, or a
    chunk killed the workers that ran it (Dask's ``KilledWorker``)."""


def _lost(e: BaseException) -> bool:
    """Whether ``e``, raised while waiting for a chunk, is the cluster going rather than the
    chunk's own error (which is raised as it is: a defect to report, with its traceback)."""
    from concurrent.futures import CancelledError

    from distributed.scheduler import KilledWorker

    return isinstance(e, CancelledError | KilledWorker | OSError | TimeoutError)


def checked(expected: str, fn: Callable, *args):
    """``fn(*args)`` on a worker whose code is the client's (digest ``expected``), else
    :class:`OtherCode` naming the worker's host.  Checked in every task, not once at connect
    time: a cluster's workers come and go (an adaptive dask-jobqueue cluster starts new ones
    from whatever environment its job script names), and the digest is cached per process."""
    from shieldlab.io import dataset

    mine = dataset.code_digest()
    if mine != expected:
        raise OtherCode(_other_code(_worker_name(), mine, expected))
    return fn(*args)


def _worker_name() -> str:
    """This worker's address and host (a cluster runs many workers a host), or the host alone."""
    import socket

    try:
        from distributed import get_worker

        return f"{get_worker().address} (on {socket.gethostname()})"
    except (ImportError, ValueError):
        return f"on {socket.gethostname()}"


def _other_code(worker: str, theirs: str, mine: str) -> str:
    return (f"the worker {worker} runs other shieldlab code (digest {theirs[:12]}, this process {mine[:12]}): "
            "install the same shieldlab, NumPy and Numba on every worker, or its chunks would not be these numbers")


@dataclass(frozen=True)
class Job:
    """One chunk to run: its world and flights (as given, or a cluster's futures of them), its
    first run and size, the seed, and ``sink(tables)``, called in this process with its result."""

    world: object
    flights: object
    first: int
    size: int
    seed: int
    sink: Callable[[dict], None]


def run_chunks(client, jobs: Sequence[Job], progress: Callable[[int], None] | None = None) -> None:
    """Run ``jobs`` on ``client``'s workers; each result goes to its job's sink as it arrives
    (in any order), and ``progress(runs_done)`` follows them.  A worker's error is raised here;
    a worker with other shieldlab code than this process's (:func:`checked`) is an
    :class:`~shieldlab.errors.InputError` of ``--scheduler``, before any of its chunks is kept."""
    from distributed import as_completed

    from shieldlab.io.dataset import code_digest

    digest = code_digest()
    futures = {client.submit(checked, digest, one_thread, chunk_tables, j.world, j.flights, j.first, j.size, j.seed,
                             pure=False): j
               for j in jobs}
    done = 0
    try:
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                tables = fut.result()
            except OtherCode as e:
                client.cancel(list(futures))
                raise InputError(f"{e}; with --out, the chunks already written are kept: run the same command with "
                                 "--resume once every worker runs this code", field="--scheduler") from None
            job.sink(tables)
            del fut  # the cluster may forget the chunk once it is stored
            done += job.size
            if progress:
                progress(done)
    except Exception as e:  # the chunks stored so far are kept: --resume finishes the rest
        if _lost(e):
            # Dask's reason in a few words (its message repeats the task's key, over lines)
            why = getattr(e, "reason", None) or " ".join(str(e).split()) or "no reason given"
            raise ClusterLost(f"{type(e).__name__}: {why}") from None
        raise


#: How long [s] to wait for a cluster's first worker before saying it has none.
SCATTER_TIMEOUT_S = 30


def scatter(client, *objs):
    """The objects every chunk reads (the world, the flights), sent to every worker once; an
    :class:`~shieldlab.errors.InputError` of ``--scheduler`` where the cluster has had no
    worker for :data:`SCATTER_TIMEOUT_S`."""
    try:
        return [client.scatter(o, broadcast=True, hash=False, timeout=SCATTER_TIMEOUT_S) for o in objs]
    except TimeoutError:
        address = getattr(getattr(client, "scheduler", None), "address", "the scheduler")
        raise InputError(f"the scheduler at {address} has no workers (none joined in {SCATTER_TIMEOUT_S} s): start "
                         f"some (`dask worker {address}`) and run the command again", field="--scheduler") from None


#: The address schemes that name a host and a port (``tcp://HOST:PORT``).
_HOST_PORT_SCHEMES = ("tcp", "tls", "ws", "wss")
#: Schemes whose connection needs a security configuration (certificates) the command line
#: does not take: a ``distributed.Client`` made with one goes to the API (``simulate(client=)``).
_SECURE_SCHEMES = ("tls", "wss")


def check_scheduler_address(scheduler: str) -> None:
    """Refuse a scheduler address whose host or port cannot be one (``foo:bar``, port 99999)
    before trying to reach it; ``HOST:PORT`` without a scheme is TCP, as Dask reads it."""
    from urllib.parse import urlsplit

    text = scheduler.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else "tcp"
    if scheme not in _HOST_PORT_SCHEMES:
        return  # inproc://, ucx:// ...: Dask's own check
    if scheme in _SECURE_SCHEMES:
        raise InputError(f"a {scheme}:// scheduler needs certificates (a distributed.Security), which the command "
                         "line does not take: make a distributed.Client with them and pass it to "
                         "shieldlab.simulate(..., client=...)", field="--scheduler")
    want = f"expected {scheme}://HOST:PORT with a port from 1 to 65535, not {scheduler!r}"
    try:
        parts = urlsplit(text if "://" in text else f"tcp://{text}")
        port = parts.port
    except ValueError:  # a port that is no number, or out of range
        raise InputError(want, field="--scheduler") from None
    if not parts.hostname or port is None or port < 1 or parts.path not in ("", "/"):
        raise InputError(want, field="--scheduler")


#: Where a local cluster's scheduler serves its HTTP pages: this machine only, any free port.
DASHBOARD = "127.0.0.1:0"

#: How long [s] to keep trying to reach a cluster's scheduler (``--scheduler``) before saying
#: it cannot be reached (Dask retries a refused connection until then).
SCHEDULER_TIMEOUT_S = 10
#: How much longer [s] than that to wait for Dask's handshake before saying that what answers
#: is no scheduler.
HANDSHAKE_GRACE_S = 5


def check_cluster_options(workers: int | None, scheduler: str | None) -> None:
    """Refuse ``--workers`` with ``--scheduler``, and a count of workers below one: a usage
    error, which a command checks before it compiles or loads anything."""
    if workers is not None and scheduler is not None:
        raise InputError("give --workers or --scheduler, not both", field="--scheduler")
    if workers is not None and workers < 1:
        raise InputError(f"must be at least 1, got {workers}", field="--workers")
    if scheduler is not None:
        check_scheduler_address(scheduler)


@contextmanager
def client_for(workers: int | None = None, scheduler: str | None = None) -> Iterator[object | None]:
    """A ``distributed.Client`` for ``workers`` local processes or a cluster's ``scheduler``
    address; None (run in this process) when neither is given."""
    check_cluster_options(workers, scheduler)
    if workers is None and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        client = _connect(Client, scheduler)
        # a cluster with no worker, said before anything is written (a sweep's folder was left
        # holding its manifest alone, and the same command again was refused for it)
        try:
            client.wait_for_workers(1, timeout=SCATTER_TIMEOUT_S)
        except TimeoutError:
            client.close()
            address = getattr(getattr(client, "scheduler", None), "address", scheduler)
            raise InputError(f"the scheduler at {address} has no workers (none joined in {SCATTER_TIMEOUT_S} s): "
                             f"start some (`dask worker {address}`) and run the command again",
                             field="--scheduler") from None
        # Dask's own log of a scheduler gone mid-run (some 35 lines of tracebacks, while waiting
        # and while closing) before the one line that says so (ClusterLost)
        with _quiet_dask():
            try:
                _same_code(client)
                yield client
            except ClusterLost as e:
                raise InputError(_lost_message(e), field="--scheduler") from None
            finally:
                client.close()
        return
    # one core per worker: the BLAS's thread pools too, or N workers would run N x cores
    # threads and share the cores out among themselves (Numba's: :func:`one_thread`)
    one_core = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    # the workers' scratch space in a folder of its own, removed afterwards (by default Dask
    # leaves a dask-scratch-space folder in the temporary directory). The scheduler's HTTP
    # server on this machine alone, at a free port: dashboard_address=None still served it on
    # every interface at 8787, and a second run at once warned that the port was taken
    import dask

    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="shieldlab-dask-"))
        stack.enter_context(dask.config.set({"temporary-directory": scratch}))
        with _no_interrupts_inherited():  # (the workers start now; Ctrl-C reaches this process again after)
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       dashboard_address=DASHBOARD, silence_logs=40, env=one_core,
                                                       local_directory=scratch))
        client = stack.enter_context(Client(cluster))
        try:
            yield client
        except ClusterLost as e:
            raise InputError(_lost_message(e), field="--workers") from None


def _connect(client_type, scheduler: str):
    """A client of the cluster at ``scheduler``, or an :class:`InputError` saying why not within
    about :data:`SCHEDULER_TIMEOUT_S`: nothing listens there (refused at once: Dask had retried
    until its timeout and said "timed out"), or what answers is no Dask scheduler (the
    dashboard's HTTP port: Dask's handshake waited for ever, past its own timeout, or read the
    HTTP reply as a frame's length and asked for 3 EiB)."""
    import socket
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if parts.scheme in ("tcp", "ws") and parts.hostname and parts.port:
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=SCHEDULER_TIMEOUT_S).close()
        except ConnectionRefusedError:
            raise InputError(f"nothing listens at {scheduler} (connection refused): is the scheduler running, and "
                             "is that its port (8786 unless it was given another)?", field="--scheduler") from None
        except OSError as e:  # no route, unknown host, no answer in time
            raise InputError(f"cannot reach the scheduler at {scheduler}: {e.strerror or e}",
                             field="--scheduler") from None
    got: dict = {}

    def connect():
        try:
            got["client"] = client_type(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except BaseException as e:  # noqa: BLE001 (said below, whatever it was)
            got["error"] = e

    # in a thread of its own: a handshake with something that is not a scheduler can wait for
    # ever, whatever timeout the client was given
    t = threading.Thread(target=connect, name="shieldlab-connect", daemon=True)
    t.start()
    t.join(SCHEDULER_TIMEOUT_S + HANDSHAKE_GRACE_S)
    if "client" in got:
        return got["client"]
    err = got.get("error")
    if isinstance(err, (OSError, TimeoutError)):
        raise InputError(f"cannot reach the scheduler at {scheduler}: {err}", field="--scheduler") from None
    said = "no answer to Dask's handshake" if err is None else f"{type(err).__name__} in Dask's handshake"
    raise InputError(f"what answers at {scheduler} is not a Dask scheduler ({said}): a scheduler's address is the "
                     "one `dask scheduler` prints (tcp://HOST:8786 unless given another port), not its dashboard's",
                     field="--scheduler") from None


def _same_code(client) -> None:
    """Refuse a cluster whose workers run other shieldlab code, before anything is written (the
    tasks check again: workers come and go)."""
    from shieldlab.io.dataset import code_digest

    mine = code_digest()
    try:
        theirs = client.run(code_digest)
    except Exception as e:  # noqa: BLE001 (a worker whose shieldlab has no such function, say)
        raise InputError(f"the cluster's workers could not say which shieldlab code they run ({type(e).__name__}: "
                         f"{e}): install the same shieldlab, NumPy and Numba on every worker",
                         field="--scheduler") from None
    for address, digest in sorted(theirs.items()):
        if digest != mine:
            raise InputError(_other_code(address, digest, mine), field="--scheduler")


@contextmanager
def _quiet_dask():
    """Dask's loggers (``distributed`` and those under it, which Dask's configuration gives
    levels of their own) at CRITICAL while the block runs, as they were afterwards."""
    import logging

    names = ["distributed", *(n for n in logging.root.manager.loggerDict if n.startswith("distributed."))]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


@contextmanager
def _no_interrupts_inherited():
    """SIGINT ignored while local workers start, so that their processes start ignoring it:
    Ctrl-C reaches the whole process group, and each worker printed its KeyboardInterrupt's
    traceback while this process shut the cluster down (a new Python process keeps an ignored
    SIGINT ignored).  In the main thread only (where signals can be set)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _lost_message(e: ClusterLost) -> str:
    return (f"the cluster stopped running the chunks ({e}); with --out, the chunks already written are kept: "
            "run the same command with --resume once the scheduler and its workers are back")
