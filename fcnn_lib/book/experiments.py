"""Repeated experiments for the book: many seeds × splits at once, and their summary.

A conclusion drawn from training must hold over several random seeds and data splits,
so chapter 8 trains every configuration it compares once per (seed, split) pair and
reports mean ± standard deviation and the paired differences between configurations.
Trained one after the other with :meth:`fcnn_lib.Sequential.fit`, the chapter's
runs (well over a hundred) are too slow for a page that is executed on every test
run; this module trains the runs of one configuration *together*:

- :func:`fit_stacked` takes R networks of the same architecture (built by the library,
  so their initial parameters are the library's) and R training sets of the same size,
  and runs the library's mini-batch gradient descent on all of them at once, with the
  runs stacked along a leading axis of every array (batched matrix products,
  ``np.matmul`` on (R, ·, ·) stacks). Each run r draws its mini-batch order from its
  own generator exactly as ``fit`` does, so run r ends with the parameters that
  ``nets[r].fit(X[r], Y[r], rng=order_rngs[r], ...)`` would give (checked in
  ``tests/test_book_experiments.py`` and in the chapter). The trained parameters are
  written back into the networks, so the chapter evaluates them with the library.
- :func:`train_runs` builds one network per run (the seeds × splits runner) and
  calls :func:`fit_stacked`; :func:`gradients_stacked` gives the gradients of many
  networks in one stacked pass (each equal to ``Sequential.gradients``).
- :func:`run_generators` gives each seed two independent generators, one for the
  initial parameters and one for the order of the mini-batches.
- :func:`paired_summary` and :func:`format_table` summarise per-run results as
  mean ± sd and paired differences (:func:`glue_comparisons` hands the same numbers
  to the prose); :func:`plot_paired` draws them; :func:`sign_tail` and
  :func:`binomial_se` give the chapter's two yardsticks of noise.

Supported layers: :class:`~fcnn_lib.Dense`, :class:`~fcnn_lib.Activation` (``relu``,
``sigmoid``, ``identity``), :class:`~fcnn_lib.Conv2D` and :class:`~fcnn_lib.Flatten`;
loss ``softmax_cross_entropy``. The activations, softmax, ``im2col`` and ``col2im`` are
the library's own functions; only the loop over runs is replaced by a stacked axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Activations :func:`fit_stacked` can train (each with the library's function).
STACKED_ACTIVATIONS = ("relu", "sigmoid", "identity")


def run_generators(seed):
    """Two independent generators for one seed: ``(init_rng, order_rng)``.

    ``init_rng`` draws the initial parameters, ``order_rng`` the order of the
    mini-batches. Keeping them apart means that runs with the same seed but different
    initialisation schemes see the same sequence of mini-batches (a scheme that draws
    more numbers, such as ``"normal"`` with its biases, does not shift the shuffles).

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Returns
    -------
    (numpy.random.Generator, numpy.random.Generator)
        Children 0 and 1 of ``numpy.random.SeedSequence(seed)``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    init_ss, order_ss = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(init_ss), np.random.default_rng(order_ss)


class _OneBlasThread:
    """Run a block with NumPy's bundled OpenBLAS limited to one thread, then restore it.

    The stacked products are small (a few dozen rows per run). With its default two
    threads on this course's machine, OpenBLAS spent two to three times the CPU time on
    them (measured on chapter 8's training cells) for no gain in speed; on a busy
    machine that spinning also slows everything else. Where the library or its symbols
    are not found (another BLAS, another platform) this does nothing.
    """

    def __init__(self):
        self._get = self._set = None
        try:
            import ctypes
            import glob
            import os

            pattern = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")
            for path in sorted(glob.glob(pattern)):
                lib = ctypes.CDLL(path)
                for name in ("scipy_openblas_%s_num_threads64_", "openblas_%s_num_threads64_",
                             "openblas_%s_num_threads"):
                    if hasattr(lib, name % "get") and hasattr(lib, name % "set"):
                        self._get, self._set = getattr(lib, name % "get"), getattr(lib, name % "set")
                        return
        except OSError:  # pragma: no cover - no loadable OpenBLAS
            pass

    def __enter__(self):
        if self._get is not None:
            self._before = self._get()
            self._set(1)
        return self

    def __exit__(self, *exc):
        if self._get is not None:
            self._set(self._before)
        return False


# ---------------------------------------------------------------------- the stacked network
@dataclass
class _Spec:
    kind: str                # "dense", "conv", "act", "flatten"
    index: int = -1          # position among the parametrised layers
    name: str = ""           # activation name
    kernel: tuple = ()
    stride: tuple = ()
    padding: tuple = ()


def _specs(nets):
    """The architecture shared by ``nets``, as a list of :class:`_Spec`."""
    import fcnn_lib as F

    if not nets:
        raise ValueError("fit_stacked needs at least one network, got none")
    first = nets[0]
    for r, net in enumerate(nets):
        if not isinstance(net, F.Sequential):
            raise TypeError(f"nets[{r}] must be a fcnn_lib Sequential, got {type(net).__name__}")
        if net.loss_name != "softmax_cross_entropy":
            raise ValueError(f"fit_stacked trains loss 'softmax_cross_entropy' only; nets[{r}] has {net.loss_name!r}")
        if repr(net) != repr(first):
            raise ValueError(f"every network must have the same architecture; nets[0] is {first!r}, nets[{r}] is {net!r}")
    specs, k = [], 0
    for layer in first.layers:
        if isinstance(layer, F.Dense):
            specs.append(_Spec("dense", k))
            k += 1
        elif isinstance(layer, F.Conv2D):
            specs.append(_Spec("conv", k, kernel=tuple(layer.kernel_size), stride=tuple(layer.stride),
                               padding=tuple(layer.padding)))
            k += 1
        elif isinstance(layer, F.Flatten):
            specs.append(_Spec("flatten"))
        elif isinstance(layer, F.Activation) and layer.name in STACKED_ACTIVATIONS:
            specs.append(_Spec("act", name=layer.name))
        else:
            raise ValueError(
                f"fit_stacked supports Dense, Conv2D, Flatten and Activation{STACKED_ACTIVATIONS}; got {layer!r}"
            )
    if specs[-1].kind != "dense":
        raise ValueError(f"the last layer must be Dense (it gives the logits), got {first.layers[-1]!r}")
    return specs


def _activation(name, Z):
    import fcnn_lib as F

    if name == "relu":
        return F.relu(Z)
    if name == "sigmoid":
        return F.sigmoid(Z)
    return Z


class _Stack:
    """R networks of one architecture with their parameters stacked: W[k] of shape
    (R, *weight_shape), b[k] of shape (R, n_out)."""

    def __init__(self, nets):
        self.specs = _specs(nets)
        self.R = len(nets)
        layers = [net.param_layers for net in nets]
        n = len(layers[0])
        self.W = [np.stack([ls[k].W for ls in layers]) for k in range(n)]
        self.b = [np.stack([ls[k].b for ls in layers]) for k in range(n)]

    def forward(self, A, *, first_cols=None, keep=False):
        """Stacked forward pass. A: (R, B, ...) inputs. Returns the logits (R, B, n_L)
        and, with ``keep``, what the backward pass needs."""
        import fcnn_lib as F

        R, B = A.shape[:2]
        cache = []
        for pos, spec in enumerate(self.specs):
            if spec.kind == "dense":
                W, b = self.W[spec.index], self.b[spec.index]
                cache.append(A)
                A = np.matmul(A, W.transpose(0, 2, 1)) + b[:, None, :]
            elif spec.kind == "conv":
                W, b = self.W[spec.index], self.b[spec.index]
                c_out = W.shape[1]
                _, _, C, H, Wd = A.shape
                Ho, Wo = F.conv_output_shape((R * B, C, H, Wd), spec.kernel, spec.stride, spec.padding)
                if pos == 0 and first_cols is not None:
                    cols = first_cols
                else:
                    cols = F.im2col(A.reshape(R * B, C, H, Wd), spec.kernel, spec.stride, spec.padding)
                    cols = cols.reshape(R, B * Ho * Wo, -1)
                cache.append((cols, A.shape))
                Z = np.matmul(cols, W.reshape(R, c_out, -1).transpose(0, 2, 1)) + b[:, None, :]
                A = Z.reshape(R, B, Ho, Wo, c_out).transpose(0, 1, 4, 2, 3)
            elif spec.kind == "act":
                Z = A
                A = _activation(spec.name, Z)
                cache.append((Z, A))
            else:  # flatten
                cache.append(A.shape)
                A = A.reshape(R, B, -1)
        return (A, cache) if keep else A

    def backward(self, G, cache, weight_decay):
        """Stacked backward pass from G = ∂J/∂logits, (R, B, n_L); returns (dW, db) lists.

        The same steps as the library's layers: Dense dW = Gᵀ A, db = Σ_rows G,
        dA = G W; activation dZ = dA ⊙ f'(Z); Conv2D through its patch matrix and
        ``col2im``. The first layer computes no input gradient. λW is added to each dW.
        """
        import fcnn_lib as F

        R = self.R
        dW = [None] * len(self.W)
        db = [None] * len(self.b)
        for pos in range(len(self.specs) - 1, -1, -1):
            spec, saved = self.specs[pos], cache[pos]
            if spec.kind == "dense":
                W = self.W[spec.index]
                dW[spec.index] = np.matmul(G.transpose(0, 2, 1), saved)
                db[spec.index] = G.sum(axis=1)
                if pos > 0:
                    G = np.matmul(G, W)
            elif spec.kind == "conv":
                cols, in_shape = saved
                W = self.W[spec.index]
                c_out = W.shape[1]
                Gm = G.transpose(0, 1, 3, 4, 2).reshape(R, -1, c_out)  # (R, B·Ho·Wo, C_out)
                dW[spec.index] = np.matmul(Gm.transpose(0, 2, 1), cols).reshape(W.shape)
                db[spec.index] = Gm.sum(axis=1)
                if pos > 0:
                    _, B, C, H, Wd = in_shape
                    dcols = np.matmul(Gm, W.reshape(R, c_out, -1))
                    G = F.col2im(dcols.reshape(-1, dcols.shape[-1]), (R * B, C, H, Wd),
                                 spec.kernel, spec.stride, spec.padding).reshape(in_shape)
            elif spec.kind == "act":
                Z, A = saved
                if spec.name == "relu":
                    G = G * (Z > 0)
                elif spec.name == "sigmoid":
                    G = G * (A * (1.0 - A))
            else:
                G = G.reshape(saved)
        if weight_decay is not None:
            for k in range(len(dW)):
                dW[k] = dW[k] + weight_decay.reshape((R,) + (1,) * (dW[k].ndim - 1)) * self.W[k]
        return dW, db

    def write_back(self, nets):
        """Put run r's parameters into ``nets[r]`` (through the library's set_params)."""
        for r, net in enumerate(nets):
            net.set_params([(W[r], b[r]) for W, b in zip(self.W, self.b)])


def _softmax_ce(Z, Y, value=True):
    """Gradient (R, B, n) of the mean softmax cross-entropy with respect to the logits,
    (softmax(Z) − Y)/B as in ``eq-bp1-softmax-ce``, and (if ``value``) its value per run (R,)."""
    import fcnn_lib as F

    R, B, n = Z.shape
    P = F.softmax(Z.reshape(R * B, n)).reshape(R, B, n)
    G = (P - Y) / B
    if not value:
        return None, G
    shifted = Z - Z.max(axis=2, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    return -np.sum(Y * logp, axis=(1, 2)) / B, G


def _as_stack(X, R, what):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 3 or X.shape[0] != R:
        raise ValueError(f"{what} must be a stack of shape (R, m, ...) with R = {R} runs, got shape {X.shape}")
    return X


def _accuracy(stack, X, y):
    logits = stack.forward(X)
    return np.mean(logits.argmax(axis=2) == y, axis=1)


def fit_stacked(nets, X, Y, *, epochs, batch_size, lr, order_rngs, weight_decay=0.0, evaluate=None,
                record_loss=False):
    """Train R networks of one architecture together; the same result as R calls of ``fit``.

    Run r is ``nets[r].fit(X[r], Y[r], epochs=epochs, batch_size=batch_size, lr=lr,
    rng=order_rngs[r], weight_decay=weight_decay[r])``: each epoch it draws
    ``order_rngs[r].permutation(m)`` and takes one gradient step (book equation
    ``eq-gd``, gradients by the δ recursion ``eq-bp1``–``eq-bp4`` with ``λW`` added,
    ``eq-weight-decay``) per mini-batch of that order. Only the order of the floating
    point sums may differ from ``fit`` (batched instead of single matrix products).

    Parameters
    ----------
    nets : list of R fcnn_lib.Sequential
        Same architecture (Dense, Conv2D, Flatten, Activation relu/sigmoid/identity),
        loss ``"softmax_cross_entropy"``; their current parameters are the starting
        point, and the trained parameters are written back into them.
    X : array of shape (R, m, n_0) or (R, m, C, H, W)
        Training inputs of every run (same m for all runs).
    Y : array of shape (R, m, n_L)
        One-hot targets.
    epochs, batch_size : int
    lr : float
        Learning rate η.
    order_rngs : list of R numpy.random.Generator
        Each run's mini-batch order.
    weight_decay : float or array of shape (R,)
        λ of each run (weights only, never biases).
    evaluate : dict, optional
        name → (X_eval, y_eval) with X_eval of shape (R, m_eval, ...) and integer
        labels y_eval of shape (R, m_eval): the accuracy on each is recorded after
        every epoch (book equation ``eq-ch08-accuracy``).
    record_loss : bool
        Also record the mean objective of each epoch's mini-batches (as ``fit``'s
        ``"loss"``).

    Returns
    -------
    dict
        name → array of shape (R, epochs) of accuracies, and ``"loss"`` (R, epochs)
        if ``record_loss``.
    """
    import fcnn_lib as F

    nets = list(nets)
    stack = _Stack(nets)
    R = stack.R
    X = _as_stack(X, R, "X")
    Y = _as_stack(Y, R, "Y")
    if Y.shape[:2] != X.shape[:2]:
        raise ValueError(f"X and Y must hold the same runs and examples; X has shape {X.shape}, Y has {Y.shape}")
    if len(order_rngs) != R:
        raise ValueError(f"need one order generator per run: {R} runs, got {len(order_rngs)} generators")
    for g in order_rngs:
        if not isinstance(g, np.random.Generator):
            raise TypeError(f"order_rngs must hold numpy.random.Generator objects, got {type(g).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be a finite number > 0, got {lr}")
    lam = np.broadcast_to(np.asarray(weight_decay, dtype=np.float64), (R,)).copy()
    if np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"weight_decay must be finite and >= 0, got {weight_decay!r}")
    evaluate = {} if evaluate is None else dict(evaluate)
    for name, (Xe, ye) in evaluate.items():
        Xe = _as_stack(Xe, R, f"evaluate[{name!r}] inputs")
        ye = np.asarray(ye)
        if ye.shape != Xe.shape[:2]:
            raise ValueError(f"evaluate[{name!r}] labels must have shape {Xe.shape[:2]}, got {ye.shape}")
        evaluate[name] = (Xe, ye)

    m = X.shape[1]
    # A first convolution layer reads fixed images: its patch matrices are made once.
    first_cols = None
    if stack.specs[0].kind == "conv":
        s = stack.specs[0]
        _, _, C, H, Wd = X.shape
        Ho, Wo = F.conv_output_shape((R * m, C, H, Wd), s.kernel, s.stride, s.padding)
        first_cols = F.im2col(X.reshape(R * m, C, H, Wd), s.kernel, s.stride, s.padding).reshape(R, m, Ho * Wo, -1)
    history = {name: np.zeros((R, epochs)) for name in evaluate}
    if record_loss:
        history["loss"] = np.zeros((R, epochs))
    decay = lam if np.any(lam > 0) else None
    with _OneBlasThread():
        _train(stack, X, Y, history, evaluate, first_cols, order_rngs, epochs, batch_size, lr, lam, decay,
               record_loss)
    stack.write_back(nets)
    return history


def _train(stack, X, Y, history, evaluate, first_cols, order_rngs, epochs, batch_size, lr, lam, decay,
           record_loss):
    """The epochs of :func:`fit_stacked` (arguments already checked)."""
    R, m = X.shape[:2]
    runs = np.arange(R)[:, None]
    for epoch in range(epochs):
        order = np.stack([g.permutation(m) for g in order_rngs])  # (R, m), as fit draws it
        losses = []
        for start in range(0, m, batch_size):
            idx = order[:, start:start + batch_size]
            B = idx.shape[1]
            cols = None if first_cols is None else first_cols[runs, idx].reshape(R, B * first_cols.shape[2], -1)
            logits, cache = stack.forward(X[runs, idx], first_cols=cols, keep=True)
            value, G = _softmax_ce(logits, Y[runs, idx], value=record_loss)
            dW, db = stack.backward(G, cache, decay)
            if record_loss:
                penalty = 0.5 * lam * sum(np.sum(W.reshape(R, -1) ** 2, axis=1) for W in stack.W)
                losses.append(value + penalty)
            for k in range(len(stack.W)):
                # θ + (−η g), in place: the numbers of fit's θ − η g, bit for bit, without
                # allocating new (R, ...) arrays at every step.
                dW[k] *= -lr
                stack.W[k] += dW[k]
                db[k] *= -lr
                stack.b[k] += db[k]
        if record_loss:
            history["loss"][:, epoch] = np.mean(losses, axis=0)
        for name, (Xe, ye) in evaluate.items():
            history[name][:, epoch] = _accuracy(stack, Xe, ye)


def gradients_stacked(nets, X, Y):
    """The gradients of R networks, each on its own batch, in one stacked pass.

    Run r gives what ``nets[r].gradients(X[r], Y[r])[1]`` gives (mean softmax
    cross-entropy, no weight decay): the δ recursion ``eq-bp1``–``eq-bp4`` with the runs
    stacked as in :func:`fit_stacked`. The networks are not changed.

    Parameters
    ----------
    nets : list of R fcnn_lib.Sequential
        As for :func:`fit_stacked`.
    X, Y : arrays of shape (R, m, ...) and (R, m, n_L)

    Returns
    -------
    list of R dicts
        Parameter name (``W1``, ``b1``, …) → gradient, as ``Sequential.grads()``.
    """
    stack = _Stack(list(nets))
    X = _as_stack(X, stack.R, "X")
    Y = _as_stack(Y, stack.R, "Y")
    if Y.shape[:2] != X.shape[:2]:
        raise ValueError(f"X and Y must hold the same runs and examples; X has shape {X.shape}, Y has {Y.shape}")
    with _OneBlasThread():
        logits, cache = stack.forward(X, keep=True)
        _, G = _softmax_ce(logits, Y, value=False)
        dW, db = stack.backward(G, cache, None)
    return [{name: grad[r] for k in range(len(dW)) for name, grad in ((f"W{k + 1}", dW[k]), (f"b{k + 1}", db[k]))}
            for r in range(stack.R)]


def train_runs(build, seeds, X, Y, **fit_kwargs):
    """Build one network per run with the library and train them all with :func:`fit_stacked`.

    The seeds × splits runner: run r uses ``seeds[r]``, whose two generators
    (:func:`run_generators`) draw the initial parameters (``build(init_rng)`` must return
    a fresh network built with that generator) and the mini-batch order. The data of
    run r, ``X[r]`` and ``Y[r]``, is the training set of that run's split.

    Parameters
    ----------
    build : callable, or a sequence of R callables
        ``build(init_rng) -> fcnn_lib.Sequential``; one per run to train settings
        that differ only in their initialisation together.
    seeds : sequence of R ints
    X, Y : arrays of shape (R, m, ...) and (R, m, n_L)
    **fit_kwargs
        Passed to :func:`fit_stacked` (``epochs``, ``batch_size``, ``lr``,
        ``weight_decay``, ``evaluate``, ``record_loss``).

    Returns
    -------
    (list of fcnn_lib.Sequential, dict)
        The trained networks, run by run, and the history of :func:`fit_stacked`.
    """
    seeds = list(seeds)
    builds = list(build) if not callable(build) else [build] * len(seeds)
    if len(builds) != len(seeds):
        raise ValueError(f"need one build function per run: {len(seeds)} seeds, got {len(builds)} functions")
    nets, order_rngs = [], []
    for make, seed in zip(builds, seeds):
        init_rng, order_rng = run_generators(seed)
        nets.append(make(init_rng))
        order_rngs.append(order_rng)
    history = fit_stacked(nets, X, Y, order_rngs=order_rngs, **fit_kwargs)
    return nets, history


def slug(name):
    """A configuration's name as a glue-key word: lower case, runs of other characters
    turned into one hyphen (``"MLP, λ = 1e-3"`` → ``"mlp-1e-3"``)."""
    import re

    out = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    if not out:
        raise ValueError(f"cannot make a glue key from the name {name!r}")
    return out


def glue_comparisons(prefix, results, reference, *, scale=100.0):
    """Glue every number :func:`format_table` prints, for the prose.

    For each configuration ``name`` (key word ``slug(name)``): ``{prefix}-{slug}-mean``
    and ``-sd`` (scaled by ``scale``); for each one other than the reference also the
    paired differences ``-diff`` and ``-diff-sd`` (scaled) and the counts ``-higher``,
    ``-equal``, ``-lower``.

    Returns
    -------
    dict
        The glued values by key, as the text shows them (for assertions).
    """
    from .numbers import glue

    out = {}
    for name, values in results.items():
        mu, sd = mean_sd(np.asarray(values) * scale)
        key = f"{prefix}-{slug(name)}"
        out[f"{key}-mean"] = glue(f"{key}-mean", mu)
        out[f"{key}-sd"] = glue(f"{key}-sd", sd)
    for c in paired_summary(results, reference):
        key = f"{prefix}-{slug(c.name)}"
        mu, sd = mean_sd(c.diff * scale)
        out[f"{key}-diff"] = glue(f"{key}-diff", mu)
        out[f"{key}-diff-sd"] = glue(f"{key}-diff-sd", sd)
        out[f"{key}-higher"] = glue(f"{key}-higher", c.wins)
        out[f"{key}-equal"] = glue(f"{key}-equal", c.ties)
        out[f"{key}-lower"] = glue(f"{key}-lower", c.losses)
    return out


def tex_number(x):
    """A positive number as TeX for the prose, e.g. ``$10^{-3}$``, ``$0$`` or ``$0.2$``
    (glue it with ``markdown=True``). Powers of ten are written as powers."""
    x = float(x)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"tex_number expects a finite number >= 0, got {x}")
    if x == 0:
        return "$0$"
    e = math.log10(x)
    if abs(e - round(e)) < 1e-12 and abs(e) >= 2:
        return f"$10^{{{int(round(e))}}}$"
    return f"${x:g}$"


# ---------------------------------------------------------------------- summaries
@dataclass
class Comparison:
    """Per-run results of one configuration against a reference, paired by run.

    ``values`` and ``reference`` hold one number per run (same run order); the paired
    differences are ``values − reference``.
    """

    name: str
    values: np.ndarray
    reference_name: str
    reference: np.ndarray

    @property
    def diff(self):
        """Paired differences, one per run."""
        return self.values - self.reference

    @property
    def wins(self):
        """Number of runs with a positive difference."""
        return int(np.sum(self.diff > 0))

    @property
    def ties(self):
        """Number of runs with a difference of exactly zero."""
        return int(np.sum(self.diff == 0))

    @property
    def losses(self):
        """Number of runs with a negative difference."""
        return int(np.sum(self.diff < 0))

    def verdict(self, min_runs):
        """+1 if the difference is positive in at least ``min_runs`` runs, −1 if negative
        in at least ``min_runs`` runs, 0 otherwise (ties count for neither side)."""
        if self.wins >= min_runs:
            return 1
        if self.losses >= min_runs:
            return -1
        return 0


def sign_tail(n, k):
    """P(at least k of n fair coin flips land on one given side) = Σ_{j≥k} C(n, j) / 2ⁿ.

    The chance that one of two equally good settings wins at least k of n independent
    paired runs (without ties); the chapter's screen for a consistent difference.
    """
    if not (isinstance(n, (int, np.integer)) and isinstance(k, (int, np.integer)) and 0 <= k <= n):
        raise ValueError(f"need integers 0 <= k <= n, got n={n!r}, k={k!r}")
    return sum(math.comb(int(n), j) for j in range(int(k), int(n) + 1)) / 2 ** int(n)


def mean_sd(values):
    """(mean, sample standard deviation with n − 1) of a 1-D array of per-run results."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size < 2:
        raise ValueError(f"mean ± sd needs at least 2 runs, got {v.size}")
    return float(v.mean()), float(v.std(ddof=1))


def paired_summary(results, reference):
    """Compare every configuration of ``results`` with ``reference``, run by run.

    Parameters
    ----------
    results : dict
        name → array of shape (R,): one result per run, the runs in the same order for
        every name (run r of each configuration used the same seed and split).
    reference : str
        The name the others are compared with.

    Returns
    -------
    list of Comparison
        One per name other than ``reference``, in the order of ``results``.
    """
    if reference not in results:
        raise ValueError(f"reference {reference!r} is not among the results {list(results)}")
    ref = np.asarray(results[reference], dtype=np.float64)
    out = []
    for name, values in results.items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != ref.shape:
            raise ValueError(f"{name!r} has {values.shape} results but {reference!r} has {ref.shape}")
        if name != reference:
            out.append(Comparison(name, values, reference, ref))
    return out


def format_table(results, reference, *, scale=100.0, digits=2, title=""):
    """A text table: mean ± sd of every configuration and its paired difference with
    ``reference``, run by run (mean ± sd, and in how many runs it is higher, equal, lower).

    ``scale`` multiplies every value (100 for accuracies shown in percentage points).
    The table is about 60 characters wide, so it reads on a phone.
    """
    comps = {c.name: c for c in paired_summary(results, reference)}
    width = max(max(len(str(n)) for n in results), len("setting")) + 2
    n = len(np.atleast_1d(next(iter(results.values()))))
    lines = [title] if title else []
    lines.append(f"{'setting':{width}s}{'mean ± sd':>14s}{'paired diff.':>16s}{'+':>5s}{'=':>4s}{'−':>4s}")
    for name, values in results.items():
        mu, sd = mean_sd(np.asarray(values) * scale)
        row = f"{str(name):{width}s}{f'{mu:.{digits}f} ± {sd:.{digits}f}':>14s}"
        if name == reference:
            lines.append(row + f"{'reference':>16s}")
            continue
        c = comps[name]
        dmu, dsd = mean_sd(c.diff * scale)
        lines.append(row + f"{f'{dmu:+.{digits}f} ± {dsd:.{digits}f}':>16s}{c.wins:5d}{c.ties:4d}{c.losses:4d}")
    lines.append(f"paired diff. = setting − {reference}, run by run over {n} runs;")
    lines.append("+ = −: the runs in which the setting is higher, equal, lower")
    return "\n".join(lines)


def binomial_se(p, n):
    """Standard error sqrt(p(1 − p)/n) of an accuracy p measured on n independent images."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a proportion in [0, 1], got {p}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return math.sqrt(p * (1.0 - p) / n)


def plot_paired(ax, comparisons, *, scale=100.0, xlabel="difference in validation accuracy (points)"):
    """Draw the paired differences of ``comparisons`` (list of Comparison), one row each:
    every run as a dot, the mean as a bar with ± one sd, and zero as a vertical line."""
    rng = np.random.default_rng(0)  # vertical jitter only, so equal dots stay visible
    labels = []
    for row, c in enumerate(comparisons):
        d = c.diff * scale
        y = row + rng.uniform(-0.18, 0.18, size=d.size)
        ax.plot(d, y, "o", color="C0", alpha=0.6, markersize=5, label="one run" if row == 0 else None)
        mu, sd = mean_sd(d)
        ax.errorbar([mu], [row], xerr=[sd], fmt="s", color="C1", markersize=7, capsize=4,
                    label="mean ± sd" if row == 0 else None)
        labels.append(f"{c.name}\n− {c.reference_name}")
    ax.axvline(0.0, color="0.3", linewidth=1.0)
    ax.set_yticks(range(len(comparisons)))
    ax.set_yticklabels(labels)
    ax.set_ylim(len(comparisons) - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    return ax
