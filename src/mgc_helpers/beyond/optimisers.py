"""The paper's section 4, measured: optimisers, learning rates and activations on a track-level split.

Section 4.2 of the paper describes four optimisers (SGD, Adagrad, AdaDelta, Adam) and section 4.1
claims that ReLU "solves the vanishing gradient problem"; the paper names no optimiser for its
models, gives a learning rate of 1e-4 for its RNN-LSTM alone (section 7.4), and never compares.
This module runs the comparison:

* :func:`design` lists the configurations of a design: ``"optimisers"`` (every optimiser with ReLU,
  at the paper's rate and at its usual default, :data:`USUAL_LEARNING_RATES`) and ``"activations"``
  (ReLU, sigmoid and tanh in the hidden layers, with Adam at the paper's rate);
* :func:`run_optimiser_grid` trains each model of a plan on one split protocol over seeds, keeping
  every finished run (and its learning curves) in CSV files that a later run reuses;
* :func:`summarize_grid`, :func:`grid_table` and :func:`mean_curves` give the mean ± std table and
  the mean learning curves; :func:`gradient_norms` measures the gradients of each hidden layer;
* :func:`paper_claims` and :func:`claims_statement` say which of the paper's claims held.

Explained in ``12_optimisers.ipynb``.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..models import networks as _models
from ..models.evaluation import evaluate
from ..models.experiments import data_keys, mean_std, run_grid

if TYPE_CHECKING:  # pragma: no cover
    from ..data.segments import SegmentSet

__all__ = [
    "DESIGNS",
    "PAPER_LEARNING_RATE",
    "RUN_KEYS",
    "USUAL_LEARNING_RATES",
    "USUAL_SOURCES",
    "Config",
    "claims_statement",
    "design",
    "gradient_norms",
    "grid_table",
    "mean_curves",
    "paper_claims",
    "plan_configs",
    "plan_table",
    "rates_table",
    "resolve_plan",
    "run_optimiser_grid",
    "summarize_grid",
]

#: The learning rate the paper gives (section 7.4, for the RNN-LSTM; the book uses it for every model).
PAPER_LEARNING_RATE: float = _models.LEARNING_RATE

#: Each optimiser's usual default learning rate: the rate its authors recommend where they give one
#: (Adam: 1e-3, Kingma and Ba 2015; AdaDelta: 1.0, Zeiler 2012, whose method has no learning rate, so
#: 1.0 is the pure method), else the long-standing default of the libraries (SGD: 0.01, Keras;
#: Adagrad: 0.01, "most implementations", Ruder 2016). Keras 3's own defaults differ for AdaDelta and
#: Adagrad (both 1e-3).
USUAL_LEARNING_RATES: dict[str, float] = {"sgd": 0.01, "adagrad": 0.01, "adadelta": 1.0, "adam": 0.001}

#: Where each usual default comes from (shown in the chapter's table of rates).
USUAL_SOURCES: dict[str, str] = {
    "sgd": "Keras' default (plain SGD, no momentum)",
    "adagrad": "the common default (Ruder 2016); Duchi et al. give none",
    "adadelta": "Zeiler 2012 (the method without a learning rate)",
    "adam": "Kingma and Ba 2015",
}

#: Names of the designs :func:`design` knows.
DESIGNS: tuple[str, ...] = ("optimisers", "activations")

#: Columns that identify one run of the grid.
RUN_KEYS: tuple[str, ...] = ("model", "optimizer", "learning_rate", "activation", "protocol", "seed", "epochs",
                             "batch_size", "n_segments", "feature_fingerprint", "data_fingerprint")


@dataclass(frozen=True)
class Config:
    """One training configuration: optimiser, learning rate, hidden activation."""

    optimizer: str
    learning_rate: float
    activation: str

    @property
    def rate_kind(self) -> str:
        """``"paper"`` (1e-4), ``"usual"`` (the optimiser's usual default) or ``"other"``."""
        if np.isclose(self.learning_rate, PAPER_LEARNING_RATE):
            return "paper"
        if np.isclose(self.learning_rate, USUAL_LEARNING_RATES.get(self.optimizer, np.nan)):
            return "usual"
        return "other"

    @property
    def label(self) -> str:
        """``"Adam, lr 0.0001, ReLU"``: a name for tables and legends."""
        names = {"sgd": "SGD", "adagrad": "Adagrad", "adadelta": "AdaDelta", "adam": "Adam",
                 "relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}
        return f"{names[self.optimizer]}, lr {self.learning_rate:g}, {names[self.activation]}"


def design(name: str) -> list[Config]:
    """The configurations of a design (``"optimisers"`` or ``"activations"``).

    Examples
    --------
    >>> [c.label for c in design("activations")]
    ['Adam, lr 0.0001, ReLU', 'Adam, lr 0.0001, sigmoid', 'Adam, lr 0.0001, tanh']
    >>> len(design("optimisers"))
    8
    """
    if name == "optimisers":
        return [Config(opt, rate, "relu") for opt in _models.OPTIMIZERS
                for rate in (PAPER_LEARNING_RATE, USUAL_LEARNING_RATES[opt])]
    if name == "activations":
        return [Config("adam", PAPER_LEARNING_RATE, act) for act in _models.ACTIVATIONS]
    raise ValueError(f"unknown design {name!r}; choose one of {list(DESIGNS)}")


def plan_configs(designs: str) -> list[Config]:
    """The union of ``"+"``-joined designs, in order, each configuration once.

    Examples
    --------
    >>> len(plan_configs("optimisers+activations"))  # Adam/ReLU at 1e-4 is in both
    10
    """
    configs: list[Config] = []
    for name in designs.split("+"):
        configs += [c for c in design(name.strip()) if c not in configs]
    return configs


def _run_config(key: dict[str, Any], segments: SegmentSet,
                split_fn: Callable[..., Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train and test one run of the grid (in this process or a worker); its result row and learning curve."""
    from ..models import training

    start = time.perf_counter()
    split = split_fn(segments, key["protocol"], seed=key["seed"])
    trained = training.train(segments, split, model=key["model"], epochs=key["epochs"], batch_size=key["batch_size"],
                             seed=key["seed"], learning_rate=key["learning_rate"], optimizer=key["optimizer"],
                             activation=key["activation"])
    metrics = evaluate(trained, segments, split.test).metrics()
    history = trained.history
    row = {**key, "accuracy": metrics["accuracy"], "loss": metrics["loss"],
           "track_accuracy_mean": metrics["track_accuracy_mean"],
           "final_train_loss": float(history["loss"].iloc[-1]),
           "final_train_accuracy": float(history["accuracy"].iloc[-1]),
           "n_train": len(split.train), "n_test": len(split.test),
           "seconds": round(time.perf_counter() - start, 2)}
    return row, pd.DataFrame({c: history[c].to_numpy() for c in training.HISTORY_COLUMNS})


def _run_name(key: dict[str, Any]) -> str:
    """``"MLP, Adam, lr 0.0001, ReLU, seed 0"``: a run in the progress lines."""
    config = Config(key["optimizer"], key["learning_rate"], key["activation"])
    return f"{_models.DISPLAY_NAMES[key['model']]}, {config.label}, seed {key['seed']}"


def run_optimiser_grid(segments: SegmentSet, *, plan: Sequence[tuple[str, str, int, int]], seeds: Sequence[int],
                       protocol: str = "track", batch_size: int = 32, out: str | os.PathLike | None = None,
                       split_fn: Callable[..., Any] | None = None,
                       progress: bool | Callable[[str], None] = False,
                       jobs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train each model of ``plan`` with each configuration of its designs and each of its seeds.

    The runs are the cells of :func:`mgc_helpers.models.experiments.run_grid`, each with its
    learning curve as a second table. Explained in ``12_optimisers.ipynb``.

    Parameters
    ----------
    segments : SegmentSet
    plan : sequence of (model, designs, n_seeds, epochs)
        For example ``("cnn", "optimisers+activations", 3, 4)``: the CNN with the configurations of
        :func:`plan_configs`, the first ``n_seeds`` of ``seeds``, ``epochs`` epochs per run.
    seeds : sequence of int
        The profile's seeds; each sets the split and the training.
    protocol : str
        Split protocol for ``split_fn`` (default: ``"track"``, whole tracks held out).
    batch_size : int
    out : path-like or None
        CSV of finished runs; their learning curves go beside it (``<stem>_histories.csv``,
        :func:`mgc_helpers.models.experiments.table_path`). Runs already in both with the same
        :data:`RUN_KEYS` are reused, not trained again.
    split_fn : callable or None
        ``split_fn(segments, protocol, seed=seed) -> Split`` (default :func:`mgc_helpers.data.splits.make_split`).
    progress : bool or callable
        Report one line per run.
    jobs : int or None
        Runs trained at the same time, in worker processes (``None``: ``MGC_TRAIN_JOBS`` or
        :data:`mgc_helpers.core.compute.GRID_JOBS`; ``1``: one after the other, in this process). The
        results do not depend on it: every run seeds itself and uses the same threads. With
        workers, ``split_fn`` runs in them.

    Returns
    -------
    (runs, histories) : pandas.DataFrame, pandas.DataFrame
        One row per run (the :data:`RUN_KEYS`, test ``accuracy``, ``loss``, ``track_accuracy_mean``,
        the last epoch's training loss and accuracy, seconds), and one row per run and epoch (the keys,
        ``epoch``, ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``), for the requested runs only.
    """
    if split_fn is None:
        from ..data.splits import make_split

        split_fn = make_split
    for model, designs, n_seeds, epochs in plan:
        _models.check_model_name(model)
        plan_configs(designs)
        if not 1 <= int(n_seeds) <= len(seeds) or int(epochs) <= 0:
            raise ValueError(f"plan entry {(model, designs, n_seeds, epochs)!r}: n_seeds must be in 1..{len(seeds)} "
                             "and epochs positive")
    data = data_keys(segments)
    keys = [{"model": m, "optimizer": c.optimizer, "learning_rate": float(c.learning_rate), "activation": c.activation,
             "protocol": protocol, "seed": int(s), "epochs": int(e), "batch_size": int(batch_size), **data}
            for m, designs, n, e in plan for c in plan_configs(designs) for s in list(seeds)[:int(n)]]
    return run_grid(keys, _run_config, args=(segments, split_fn), out=out, progress=progress, jobs=jobs,
                    name=_run_name, table="histories")


_CONFIG_COLUMNS = ["model", "optimizer", "learning_rate", "activation"]


def summarize_grid(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (ddof=1) over the seeds of each model and configuration.

    Returns one row per (model, optimiser, learning rate, activation), in the grid's order, with
    ``accuracy_mean``, ``accuracy_std``, ``track_accuracy_mean_mean``, ``final_train_loss_mean``,
    ``n_seeds``, ``epochs``, ``diverged`` (seeds whose training loss ended as NaN or infinite),
    ``rate`` (``"paper"`` / ``"usual"``) and ``label``.
    """
    if runs.empty:
        raise ValueError("empty optimiser grid: nothing to summarise")
    grouped = runs.groupby(_CONFIG_COLUMNS, sort=False)
    out = pd.DataFrame({
        "accuracy_mean": grouped["accuracy"].mean(), "accuracy_std": grouped["accuracy"].std(),
        "track_accuracy_mean_mean": grouped["track_accuracy_mean"].mean(),
        "final_train_loss_mean": grouped["final_train_loss"].mean(),
        "n_seeds": grouped["seed"].nunique(), "epochs": grouped["epochs"].max(),
        "diverged": grouped["final_train_loss"].agg(lambda v: int((~np.isfinite(v.astype(float))).sum())),
    }).reset_index()
    configs = [Config(o, float(r), a) for o, r, a in zip(out["optimizer"], out["learning_rate"], out["activation"],
                                                          strict=True)]
    out["rate"] = [c.rate_kind for c in configs]
    out["label"] = [c.label for c in configs]
    return out


def grid_table(summary: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """Readable table: rows are configurations, columns the models' test accuracy as ``mean ± std``."""
    cells = summary.assign(cell=[mean_std(m, s, digits=digits)
                                 for m, s in zip(summary["accuracy_mean"], summary["accuracy_std"], strict=True)])
    table = cells.pivot_table(index="label", columns="model", values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=[m for m in dict.fromkeys(summary["model"])]).fillna("not run")
    table.columns = [_models.DISPLAY_NAMES.get(c, c) for c in table.columns]
    table.index.name = "optimiser, learning rate, hidden activation"
    return table


def mean_curves(histories: pd.DataFrame, *, metric: str = "val_accuracy") -> dict[tuple[str, str], pd.DataFrame]:
    """``{(model, label): frame}`` with columns ``epoch``, ``mean``, ``std`` of ``metric`` over the seeds."""
    if metric not in histories.columns:
        raise ValueError(f"histories have no column {metric!r}")
    out: dict[tuple[str, str], pd.DataFrame] = {}
    for (model, opt, rate, act), frame in histories.groupby(_CONFIG_COLUMNS, sort=False):
        stats = frame.groupby("epoch")[metric].agg(["mean", "std"]).reset_index()
        out[(str(model), Config(str(opt), float(rate), str(act)).label)] = stats
    return out


def gradient_norms(segments: SegmentSet, index: np.ndarray, *, model: str = "mlp",
                   activations: Sequence[str] = _models.ACTIVATIONS, seed: int = 0) -> pd.DataFrame:
    """Norm of the loss gradient of each hidden dense layer's weights, at initialisation, per activation.

    For each activation the model is built with the same seed and the gradient of the mean
    cross-entropy over the segments ``index`` is taken once (no training). A gradient that *vanishes*
    shrinks from the last hidden layer back to the first. Explained in ``12_optimisers.ipynb``.

    Returns
    -------
    pandas.DataFrame
        One row per activation and hidden layer (``layer``, ``depth`` counted from the input,
        ``gradient_norm``), and ``ratio_to_last``: the norm divided by the last hidden layer's.
    """
    import tensorflow as tf

    from ..models.training import prepare_inputs, set_seed

    index = np.asarray(index, dtype=np.int64)
    if index.size == 0:
        raise ValueError("gradient_norms: no segments given")
    X = prepare_inputs(np.asarray(segments.X)[index], model_name=model)
    y = tf.constant(np.asarray(segments.y, dtype=np.int64)[index])
    rows = []
    for act in activations:
        set_seed(int(seed))
        net = _models.build_model(model, tuple(segments.config.segment_shape), len(segments.genres), activation=act)
        hidden = [layer for layer in net.layers
                  if isinstance(layer, _models.layers.Dense) and layer.name != "softmax"]
        with tf.GradientTape() as tape:
            probs = net(X, training=False)
            loss = tf.reduce_mean(_models.keras.losses.sparse_categorical_crossentropy(y, probs))
        grads = tape.gradient(loss, [layer.kernel for layer in hidden])
        norms = [float(tf.norm(g).numpy()) for g in grads]
        for depth, (layer, norm) in enumerate(zip(hidden, norms, strict=True), start=1):
            rows.append({"activation": act, "layer": layer.name, "depth": depth, "gradient_norm": norm,
                         "ratio_to_last": norm / norms[-1] if norms[-1] > 0 else np.nan})
    return pd.DataFrame(rows)


def paper_claims(summary: pd.DataFrame, gradients: pd.DataFrame | None = None, *,
                 vanishing_ratio: float = 0.1) -> pd.DataFrame:
    """Each claim of the paper's section 4, per model: did it hold on these results?

    Explained in ``12_optimisers.ipynb``. Claims (only those the results can test are listed):

    * ``adam_best``: Adam "combines the best properties of AdaGrad and RMSProp" (4.2), read as: Adam,
      at the better of its two rates, reaches the highest mean test accuracy of the four optimisers;
    * ``relu_beats_sigmoid``, ``relu_beats_tanh``: ReLU has "better convergence" than sigmoid (4.1),
      read as a higher mean test accuracy with Adam at the paper's rate (and the same against tanh);
    * ``relu_no_vanishing``: ReLU "solves the vanishing gradient problem" (4.1), read as: at
      initialisation the first hidden layer's gradient is at least ``vanishing_ratio`` of the last
      one's with ReLU, and a larger share than with sigmoid (needs ``gradients``).

    Returns
    -------
    pandas.DataFrame
        Columns ``claim``, ``model``, ``held`` (bool), ``margin`` (the accuracy difference, or the
        gradient ratio) and ``within_spread`` (whether the difference is smaller than the larger of the
        two standard deviations, i.e. not clearly settled by this many seeds; ``None`` for a model run
        with one seed, whose spread is unknown).
    """
    rows: list[dict[str, Any]] = []
    for model, frame in summary.groupby("model", sort=False):
        opt = frame[frame["activation"] == "relu"]
        best = opt.sort_values("accuracy_mean", ascending=False).groupby("optimizer", sort=False).head(1)
        if set(best["optimizer"]) == set(_models.OPTIMIZERS):
            adam = best[best["optimizer"] == "adam"].iloc[0]
            rival = best[best["optimizer"] != "adam"].iloc[0]
            margin = float(adam["accuracy_mean"] - rival["accuracy_mean"])
            rows.append({"claim": "adam_best", "model": model, "held": margin >= 0, "margin": margin,
                         "within_spread": _within(margin, adam["accuracy_std"], rival["accuracy_std"]),
                         "detail": str(rival["optimizer"])})
        act = frame[(frame["optimizer"] == "adam") & np.isclose(frame["learning_rate"], PAPER_LEARNING_RATE)]
        act = act.set_index("activation")
        for other in ("sigmoid", "tanh"):
            if {"relu", other} <= set(act.index):
                margin = float(act.loc["relu", "accuracy_mean"] - act.loc[other, "accuracy_mean"])
                rows.append({"claim": f"relu_beats_{other}", "model": model, "held": margin > 0, "margin": margin,
                             "within_spread": _within(margin, act.loc["relu", "accuracy_std"],
                                                      act.loc[other, "accuracy_std"]),
                             "detail": other})
    if gradients is not None and not gradients.empty:
        first = gradients[gradients["depth"] == 1].set_index("activation")["ratio_to_last"]
        if {"relu", "sigmoid"} <= set(first.index):
            held = bool(first["relu"] >= vanishing_ratio and first["relu"] > first["sigmoid"])
            rows.append({"claim": "relu_no_vanishing", "model": "mlp", "held": held, "margin": float(first["relu"]),
                         "within_spread": False, "detail": f"sigmoid {first['sigmoid']:.3g}"})
    return pd.DataFrame(rows, columns=["claim", "model", "held", "margin", "within_spread", "detail"])


def _within(margin: float, *stds: float) -> bool | None:
    """Whether ``|margin|`` is below the larger standard deviation; ``None`` when no std is known (one seed)."""
    known = [float(s) for s in stds if s is not None and np.isfinite(s)]
    return abs(margin) < max(known) if known else None


_CLAIM_TEXT = {
    "adam_best": "Adam reaches the highest accuracy of the four optimisers",
    "relu_beats_sigmoid": "ReLU beats sigmoid",
    "relu_beats_tanh": "ReLU beats tanh",
    "relu_no_vanishing": "With ReLU the gradient does not vanish towards the first layer",
}


_NOISE: dict[bool | None, str] = {True: " (within the seed-to-seed spread)", None: " (one seed)"}


def claims_statement(claims: pd.DataFrame) -> str:
    """Plain sentences, one per claim: for which models it held, for which not, and which are within the noise.

    Examples
    --------
    >>> claims = pd.DataFrame({"claim": ["relu_beats_tanh"] * 2, "model": ["mlp", "cnn"], "held": [True, False],
    ...                        "margin": [0.1, -0.01], "within_spread": [False, True], "detail": ["tanh"] * 2})
    >>> claims_statement(claims)
    'ReLU beats tanh: held for the MLP; did not hold for the CNN (within the seed-to-seed spread).'
    """
    sentences = []
    for claim, frame in claims.groupby("claim", sort=False):
        parts = []
        for held, word in ((True, "held"), (False, "did not hold")):
            chosen = frame[frame["held"] == held]
            if chosen.empty:
                continue
            names = [_models.DISPLAY_NAMES.get(m, m) + _NOISE.get(w if w is None else bool(w), "")
                     for m, w in zip(chosen["model"], chosen["within_spread"], strict=True)]
            parts.append(f"{word} for the " + _join(names))
        sentences.append(f"{_CLAIM_TEXT.get(str(claim), str(claim))}: {'; '.join(parts)}.")
    return " ".join(sentences)


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]



def resolve_plan(plan: Sequence[tuple[str, str, int, int]], *,
                 epochs: int | None = None) -> tuple[tuple[str, str, int, int], ...]:
    """The profile's plan, with every entry's epochs replaced by ``epochs`` when it is given (a chapter parameter).

    Examples
    --------
    >>> resolve_plan((("mlp", "activations", 2, 3),), epochs=5)
    (('mlp', 'activations', 2, 5),)
    """
    if epochs is not None and (not isinstance(epochs, int) or isinstance(epochs, bool) or epochs <= 0):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    return tuple((str(m), str(d), int(n), int(epochs if epochs is not None else e)) for m, d, n, e in plan)


def plan_table(plan: Sequence[tuple[str, str, int, int]]) -> pd.DataFrame:
    """One row per model of a plan: its designs, configurations, seeds, epochs and number of runs."""
    rows = [{"model": _models.DISPLAY_NAMES.get(m, m), "designs": d.replace("+", " + "),
             "configurations": len(plan_configs(d)), "seeds": int(n), "epochs": int(e),
             "runs": len(plan_configs(d)) * int(n)} for m, d, n, e in plan]
    return pd.DataFrame(rows).set_index("model")


def rates_table() -> pd.DataFrame:
    """The learning rates compared: the paper's, each optimiser's usual default (and its source), Keras 3's default."""
    rows = []
    for name, cls in _models.OPTIMIZERS.items():
        keras_default = float(f"{float(np.asarray(cls().learning_rate)):.6g}")  # stored as float32
        rows.append({"optimiser": Config(name, PAPER_LEARNING_RATE, "relu").label.split(",")[0],
                     "paper's rate": PAPER_LEARNING_RATE, "usual default": USUAL_LEARNING_RATES[name],
                     "source of the default": USUAL_SOURCES[name], "Keras 3 default": keras_default})
    return pd.DataFrame(rows).set_index("optimiser")
