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
        import socket

        raise OtherCode(f"a worker on {socket.gethostname()} runs other shieldlab code (digest {mine[:12]}, "
                        f"this process {expected[:12]}): install the same shieldlab, NumPy and Numba on every "
                        f"worker, or its chunks would not be these numbers")
    return fn(*args)


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
                raise InputError(str(e), field="--scheduler") from None
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


def check_scheduler_address(scheduler: str) -> None:
    """Refuse a scheduler address whose host or port cannot be one (``foo:bar``, port 99999)
    before trying to reach it; ``HOST:PORT`` without a scheme is TCP, as Dask reads it."""
    from urllib.parse import urlsplit

    text = scheduler.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else "tcp"
    if scheme not in _HOST_PORT_SCHEMES:
        return  # inproc://, ucx:// ...: Dask's own check
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
        try:
            client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(f"cannot reach the scheduler at {scheduler}: {e}", field="--scheduler") from None
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
        try:
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

    with tempfile.TemporaryDirectory(prefix="shieldlab-dask-") as scratch, \
            dask.config.set({"temporary-directory": scratch}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=DASHBOARD,
                         silence_logs=40, env=one_core, local_directory=scratch) as cluster, \
            Client(cluster) as client:
        try:
            yield client
        except ClusterLost as e:
            raise InputError(_lost_message(e), field="--workers") from None


def _lost_message(e: ClusterLost) -> str:
    return (f"the cluster stopped running the chunks ({e}); with --out, the chunks already written are kept: "
            "run the same command with --resume once the scheduler and its workers are back")
