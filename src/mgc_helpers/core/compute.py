"""How training uses the machine: threads, XLA, steps per execution, trainings side by side.

This is the one place that decides it. :func:`mgc_helpers.models.training.train` asks
:func:`compile_options` how to compile each model and calls :func:`configure_threads` before it
trains; the grid runner (:func:`mgc_helpers.models.experiments.run_grid`, which runs the protocol grids
of the deep models, of the baselines and of musicnn, and the optimiser grid) asks
:func:`train_jobs` how many of its runs to do at the same time and does them with
:func:`run_parallel` (joblib's ``loky`` worker processes); :func:`mgc_helpers.book.reproduce.reproduce`
asks it how many chapters to run at once. Measured with ``benchmarks/bench_training.py`` on a 2-core machine:

========================  ===================================================================
setting                   choice and why
========================  ===================================================================
threads per training      :data:`TRAIN_THREADS` = 2 intra-op threads, whatever the machine.
                          TensorFlow's CPU kernels add up in an order that depends on the
                          thread count, so a fixed count keeps the numbers the same on every
                          machine and in every worker process (2 is what the stored book was
                          made with: TensorFlow's default on 2 cores).
steps per execution       :data:`STEPS_PER_EXECUTION`: Keras runs that many mini-batches of 32
                          inside one compiled call instead of returning to Python after each.
                          The same steps, in the same order, with the same numbers (bit for
                          bit); only the per-step overhead goes (about 2x for the MLPs, 1.5x
                          for the RNN-LSTM, nothing measurable for the CNN).
input pipeline            :data:`PREFETCH`: ``tf.data`` prepares the next mini-batches (slice,
                          shuffle order, batch) while the model trains on the current one,
                          with a buffer that ``tf.data`` tunes itself. The same batches in the
                          same order (bit for bit); the CNN about 1.4x and the RNN-LSTM about
                          1.3x faster per epoch, the MLPs unchanged.
the RNN-LSTM's loop       :data:`FUSED_LSTM`: both LSTM layers run their 130 frames in one fused
                          TensorFlow kernel (:class:`mgc_helpers.models.networks.FusedLSTM`), forward
                          and backward, instead of a graph loop of small operations per frame:
                          the same weights and equations, each step's two products done as one
                          (outputs agree to about 1e-7); about 1.9x faster per epoch.
                          The kernel keeps one core busy, so each mini-batch of 32 is cut into
                          :data:`LSTM_BATCH_PARTS` = 2 halves of 16 segments that run side by
                          side (the segments are independent; the halves' weight gradients are
                          added): about 1.3x more, CPU use from about 100 % to 175 %. Fixed,
                          not one per core: the order of that sum is part of the numbers.
oneDNN kernels            :data:`ONEDNN` on (TensorFlow's own default on x86): oneDNN's
                          convolution and matrix kernels instead of TensorFlow's Eigen ones, the
                          CNN about 1.8x faster per epoch, the MLPs a little, the RNN-LSTM's
                          fused kernel unchanged. They round differently from TensorFlow's
                          Eigen kernels, so the CNN's and the MLPs' weights differ from an
                          Eigen run (Table 2 moved within the seed-to-seed spread); the same
                          command twice still gives the same numbers. TensorFlow reads it
                          once, when it is imported (:mod:`mgc_helpers.models.networks` sets it first;
                          ``TF_ENABLE_ONEDNN_OPTS=0`` in the environment wins, and
                          :func:`onednn_enabled` says which one a run used).
XLA (``jit_compile``)     off for every model (:data:`JIT_COMPILE`): Keras refuses it while op
                          determinism is on, and with determinism off it changed the numbers,
                          was no faster for the RNN-LSTM and 2.8x slower for the CNN.
trainings side by side    :func:`train_jobs`: ``mgc reproduce`` runs chapters 07, 08 and 09
                          (which only need 06's features) in ``min(3, cores)`` kernels at once:
                          the RNN-LSTM's step-by-step loop keeps about one core busy, the MLPs
                          and the CNN use the other. The protocol grids of chapter 10 (the
                          CNNs and the baselines) and the optimiser grid of chapter 12 do their
                          independent runs in :data:`GRID_JOBS` = 2 worker processes (one on a
                          1-core machine): with the oneDNN kernels a CNN keeps about 1.4 cores
                          busy, and two at a time finished 6 CNN runs about 1.25x sooner than
                          one after the other; the baselines' SVMs fit on one core, and the
                          optimiser grid's short runs spend much of their time building and
                          tracing models, on one core. ``MGC_TRAIN_JOBS`` sets all of them
                          (``1``: one at a time).
                          Every run seeds itself and uses the same threads, so the numbers do
                          not depend on the number of workers.
========================  ===================================================================

Op determinism (``tf.config.experimental.enable_op_determinism``) stays on
(:func:`mgc_helpers.models.training.set_seed`). Apart from :data:`FUSED_LSTM` and :data:`ONEDNN`, whose
kernels round differently, none of these settings changes a trained weight; with all of them the same
command gives the same numbers. Both TensorFlow's Eigen kernels and oneDNN's choose their code by the
processor's instruction set, so another processor may round differently (chapter 10's CNN reached
0.847 on an Intel Sapphire Rapids and 0.844 on an AMD EPYC with the same code).

Used by every training of chapters 07-10 (``07_mlp.ipynb`` explains the training itself, which these
settings leave unchanged); ``benchmarks/bench_training.py`` prints what they gain.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["FUSED_LSTM", "GRID_JOBS", "JIT_COMPILE", "LSTM_BATCH_PARTS", "ONEDNN", "ONEDNN_ENV", "ONEDNN_NOTICE",
           "PREFETCH", "STEPS_PER_EXECUTION", "TRAIN_JOBS_ENV", "TRAIN_THREADS", "compile_options",
           "configure_threads", "drop_notice", "importing_tensorflow", "onednn_enabled", "run_parallel",
           "train_jobs"]

#: Intra-op threads of every training (fixed: the numbers depend on the thread count).
TRAIN_THREADS = 2

#: Mini-batches per compiled call, by model (the numbers do not depend on it).
STEPS_PER_EXECUTION: dict[str, int] = {"mlp": 32, "mlp_dropout": 32, "rnn_lstm": 16, "cnn": 16,
                                       "cnn_tutorial": 16}

#: TensorFlow's oneDNN CPU kernels (read once, when TensorFlow is imported; the numbers depend on it).
ONEDNN = True

#: Environment variable through which TensorFlow reads :data:`ONEDNN`.
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"

#: What TensorFlow writes to the process' standard error, once per library, when oneDNN is on.
ONEDNN_NOTICE = ("oneDNN custom operations are on",
                 "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")

#: The training pipeline prefetches mini-batches (buffer autotuned by ``tf.data``; the numbers do not depend on it).
PREFETCH = True

#: The RNN-LSTM's layers run in TensorFlow's fused LSTM kernel (:class:`mgc_helpers.models.networks.FusedLSTM`).
FUSED_LSTM = True

#: The RNN-LSTM's mini-batch runs as this many parts side by side (fixed: the numbers depend on it).
LSTM_BATCH_PARTS = 2

#: XLA compilation, by model (off: it changes the numbers and was not faster with op determinism).
JIT_COMPILE: dict[str, bool] = {"mlp": False, "mlp_dropout": False, "rnn_lstm": False, "cnn": False,
                                "cnn_tutorial": False}

#: Runs of the protocol grid trained at the same time when neither the caller nor ``MGC_TRAIN_JOBS`` says.
GRID_JOBS = min(2, os.cpu_count() or 1)

#: Environment variable that sets the number of trainings run side by side (``1``: one at a time).
TRAIN_JOBS_ENV = "MGC_TRAIN_JOBS"


def compile_options(model: str) -> dict[str, Any]:
    """Keyword arguments for ``keras.Model.compile`` that decide how the named model runs.

    Examples
    --------
    >>> compile_options("mlp")
    {'steps_per_execution': 32, 'jit_compile': False}
    """
    return {"steps_per_execution": STEPS_PER_EXECUTION.get(model, 1), "jit_compile": JIT_COMPILE.get(model, False)}


def onednn_enabled() -> bool:
    """Whether TensorFlow, imported by the project in this process or a child, uses oneDNN's kernels.

    The environment's ``TF_ENABLE_ONEDNN_OPTS`` when it says (``1``/``true`` on, ``0``/``false``
    off, as TensorFlow reads it), else :data:`ONEDNN`. Recorded in ``reproduce.json``, because the
    trained weights depend on it.

    Examples
    --------
    >>> import os
    >>> onednn_enabled() == (os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").lower() in ("1", "true"))
    True
    """
    value = os.environ.get(ONEDNN_ENV, "").strip().lower()
    return {"1": True, "true": True, "0": False, "false": False}.get(value, ONEDNN)


def drop_notice(text: str, notice: Sequence[str] = ONEDNN_NOTICE) -> str:
    r"""``text`` without its lines that contain one of ``notice`` (see :func:`importing_tensorflow`).

    Examples
    --------
    >>> drop_notice("I0000 port.cc:153] oneDNN custom operations are on. You may see...\nE0000 real error\n")
    'E0000 real error\n'
    """
    return "".join(line for line in text.splitlines(keepends=True) if not any(n in line for n in notice))


@contextlib.contextmanager
def importing_tensorflow() -> Iterator[None]:
    """Import TensorFlow inside this block without its oneDNN notice on the process' standard error.

    TensorFlow's C++ code writes "oneDNN custom operations are on ..." to file descriptor 2 when it
    is imported (whatever the environment variable ``TF_CPP_MIN_LOG_LEVEL`` says), and Jupyter puts
    that text in the cell that imported it: every chapter that trains would show it. Inside the block, descriptor 2
    goes to a temporary file; afterwards everything written there except the notice's lines
    (:data:`ONEDNN_NOTICE`) is written back to standard error, so no other message is lost.
    """
    import sys
    import tempfile

    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a detached process): nothing to keep clean
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            rest = drop_notice(captured.read().decode(errors="replace"))
            if rest:
                sys.stderr.write(rest)
                sys.stderr.flush()


def configure_threads(threads: int = TRAIN_THREADS) -> int:
    """Give TensorFlow ``threads`` intra-op threads (and as many inter-op threads); returns the count in use.

    TensorFlow fixes its thread pools when it runs its first operation. :mod:`mgc_helpers.models.networks`
    sets ``TF_NUM_INTRAOP_THREADS`` and ``TF_NUM_INTEROP_THREADS`` to :data:`TRAIN_THREADS` before
    TensorFlow is imported (a user's own setting wins; worker processes inherit them), so the pools
    have that size whatever starts TensorFlow first. Called too late with another count, this warns
    and returns the count already in use (0 means TensorFlow's default, one per core).
    """
    if not isinstance(threads, int) or isinstance(threads, bool) or threads <= 0:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        if os.environ.get("TF_NUM_INTRAOP_THREADS") == str(threads):  # started with these pools already
            return threads
        current = int(tf.config.threading.get_intra_op_parallelism_threads())
        warnings.warn(f"TensorFlow already runs with {current or 'the default number of'} intra-op threads, "
                      f"not {threads}: numbers may differ from a fresh process", RuntimeWarning, stacklevel=2)
        return current
    return threads


def train_jobs(n_runs: int, *, jobs: int | None = None, default: int | None = None) -> int:
    """How many of ``n_runs`` independent trainings to run at the same time.

    ``jobs`` if given, else ``MGC_TRAIN_JOBS``, else ``default``, else the number of CPU cores;
    never more than ``n_runs`` and at least 1.

    Examples
    --------
    >>> train_jobs(9, jobs=2), train_jobs(1, jobs=4), train_jobs(0, jobs=2)
    (2, 1, 1)
    """
    if jobs is None:
        value = os.environ.get(TRAIN_JOBS_ENV, "").strip()
        if value:
            try:
                jobs = int(value)
            except ValueError:
                raise ValueError(f"{TRAIN_JOBS_ENV} must be a positive integer, got {value!r}") from None
        else:
            jobs = default if default is not None else (os.cpu_count() or 1)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs <= 0:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    return max(1, min(jobs, int(n_runs)))


def run_parallel(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], *, jobs: int,
                 on_result: Callable[[int, Any], None] | None = None) -> list[Any]:
    """``[fn(*task) for task in tasks]``, in ``jobs`` worker processes (in this process when ``jobs`` is 1).

    Results come back in the order of ``tasks``; ``on_result(i, result)`` is called as each one
    arrives (in that order too), so a caller can save finished work before the rest is done.
    """
    results: list[Any] = []
    if jobs <= 1 or len(tasks) <= 1:
        outputs: Any = (fn(*task) for task in tasks)
    else:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=jobs, backend="loky", return_as="generator")(delayed(fn)(*task) for task in tasks)
    with warnings.catch_warnings():
        # loky replaces a worker whose memory grew (TensorFlow's does, model after model) once it has
        # returned its result, and says so in a UserWarning; no run is lost and the numbers are the same.
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given", category=UserWarning)
        for i, result in enumerate(outputs):
            results.append(result)
            if on_result is not None:
                on_result(i, result)
    return results
