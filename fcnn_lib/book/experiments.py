"""Repeated experiments for the book: many seeds × folds at once, and their summary.

A conclusion drawn from training must hold over several random seeds and data splits,
so chapter 8 trains every configuration it compares once per (fold, seed) pair and
reports mean ± standard deviation, the paired differences between configurations and
an interval for their mean. Trained one after the other with
:meth:`fcnn_lib.Sequential.fit`, the chapter's runs (well over a hundred) are too slow
for a page that is executed on every test run; this module trains the runs of one
configuration *together*:

- :func:`fit_stacked` takes R networks of the same architecture (built by the library,
  so their initial parameters are the library's) and R training sets of the same size,
  and runs the library's mini-batch gradient descent on all of them at once, with the
  runs stacked along a leading axis of every array. The δ recursion is the library's
  own, :func:`fcnn_lib.backprop.forward` and :func:`~fcnn_lib.backprop.backward`,
  which accept such a leading axis; the activations and their derivatives are the
  library's (:func:`fcnn_lib.get_activation`). The gradient of the loss is book
  equation ``eq-bp1-softmax-ce`` with the library's softmax over all runs at once,
  equal bit for bit to what :func:`fcnn_lib.softmax_cross_entropy` returns run by run
  (that function takes one batch; called once per run and step, it would cost more
  than the rest of the step). A recorded objective is that function's value. Each run r
  draws its mini-batch order from its own generator exactly as ``fit`` does, so run r
  ends with the parameters that ``nets[r].fit(X[r], Y[r], rng=order_rngs[r], ...)``
  gives, bit for bit (``np.array_equal`` in ``tests/test_book_experiments.py`` and in
  the chapter). The trained parameters are written back into the networks, so the
  chapter evaluates them with the library.
- :func:`train_runs` builds one network per run (the seeds × folds runner) and calls
  :func:`fit_stacked`; :func:`run_generators` gives each seed two independent
  generators, one for the initial parameters and one for the order of the mini-batches.
- :func:`stratified_folds` cuts a data set into folds that keep the class proportions,
  so that every example is validated exactly once.
- :func:`one_blas_thread` runs a block (or, entered once, a whole page) with NumPy's
  OpenBLAS on one thread.
- :func:`paired_summary`, :func:`format_table` and :func:`glue_comparison` summarise
  per-run results as mean ± sd, paired differences, the interval
  :meth:`Comparison.interval` for their mean and the sign counts; :func:`plot_paired`
  draws them; :func:`sign_tail`, :func:`binomial_se`, :func:`wilson_interval` and
  :func:`t_quantile` are the chapter's yardsticks of noise.

Supported layers in :func:`fit_stacked`: :class:`~fcnn_lib.Dense` and element-wise
:class:`~fcnn_lib.Activation` layers (a dense network, run through
:mod:`fcnn_lib.backprop`), optionally preceded by :class:`~fcnn_lib.Conv2D` layers
(each optionally followed by an element-wise activation) and one
:class:`~fcnn_lib.Flatten`; loss ``softmax_cross_entropy``. For the convolution layers
the library has no routine that takes a run axis, so this module stacks the matrix form
of book equations ``eq-im2col`` and ``eq-conv-backward`` itself (with the library's
``im2col`` and ``col2im``); the tests check it against the library's Conv2D run by run.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


# ---------------------------------------------------------------------- generators, folds, threads
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


def stratified_folds(y, n_folds, rng):
    """Cut the examples into ``n_folds`` folds that keep the class proportions.

    Each class is shuffled with ``rng``; the classes, one after the other, are then
    dealt to the folds like cards (0, 1, …, n_folds − 1, 0, 1, …, the deal running on
    from one class to the next). So every example lies in exactly one fold, the folds
    differ in size by at most one example, and each class is spread over the folds
    with counts that differ by at most one.

    Parameters
    ----------
    y : array of shape (m,), integers
        Class labels.
    n_folds : int
        At least 2 and at most m.
    rng : numpy.random.Generator

    Returns
    -------
    list of n_folds int arrays
        Positions in ``y`` (0..m−1) of each fold's examples, each sorted.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"y must be a 1-D array of integer class labels, got shape {y.shape}, dtype {y.dtype}")
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or not 2 <= n_folds <= y.size:
        raise ValueError(f"n_folds must be an integer from 2 to the number of examples {y.size}, got {n_folds!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    order = np.concatenate([rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)])
    return [np.sort(order[k::n_folds]) for k in range(n_folds)]


@functools.lru_cache(maxsize=1)
def _blas_thread_controls():
    """(get, set) of the OpenBLAS thread count bundled with NumPy, or (None, None)."""
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
                    return getattr(lib, name % "get"), getattr(lib, name % "set")
    except OSError:  # pragma: no cover - no loadable OpenBLAS
        pass
    return None, None


@contextlib.contextmanager
def one_blas_thread():
    """Run a block with NumPy's bundled OpenBLAS on one thread, then restore the count.

    ``with F.book.one_blas_thread(): ...`` for a block; for a whole notebook page, enter
    it once (e.g. ``contextlib.ExitStack().enter_context(F.book.one_blas_thread())``)
    and close it at the end.

    The book's matrix products are small (a few dozen rows per network). With its
    default two threads on the course's machine, OpenBLAS spent two to fifteen times
    the CPU time on them (measured on chapter 8) for no gain in speed; on a busy machine
    that spinning also slows everything else. The results do not change: OpenBLAS
    splits a product between threads by blocks of the result, and each entry is
    summed in the same order. Where the library or its thread symbols are not found
    (another BLAS, another platform) this does nothing.
    """
    get, set_ = _blas_thread_controls()
    if get is None:
        yield
        return
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)


# ---------------------------------------------------------------------- the stacked networks
@dataclass
class _Conv:
    """One convolution layer of the stack, with the element-wise activation after it."""

    kernel: tuple
    stride: tuple
    padding: tuple
    act: str | None            # activation name, or None


def _architecture(nets):
    """Check ``nets`` and split their layers: (convolution specs, the dense tail as a
    list of layers). The dense tail is everything after Flatten (or all layers)."""
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
    layers = list(first.layers)
    flat = [i for i, layer in enumerate(layers) if isinstance(layer, F.Flatten)]
    if len(flat) > 1:
        raise ValueError(f"fit_stacked supports one Flatten layer; {first!r} has {len(flat)}")
    head, tail = (layers[:flat[0]], layers[flat[0] + 1:]) if flat else ([], layers)
    convs = []
    for i, layer in enumerate(head):
        if isinstance(layer, F.Conv2D):
            convs.append(_Conv(tuple(layer.kernel_size), tuple(layer.stride), tuple(layer.padding), None))
        elif isinstance(layer, F.Activation) and convs and convs[-1].act is None and layer.name != "softmax":
            convs[-1].act = layer.name
        else:
            raise ValueError(f"fit_stacked supports Conv2D layers (each followed by at most one element-wise "
                             f"Activation) before Flatten; got {layer!r} at position {i}")
    if flat and not convs:
        raise ValueError(f"fit_stacked supports Flatten only after Conv2D layers; got {first!r}")
    if not tail or not isinstance(tail[-1], F.Dense):
        raise ValueError(f"the last layer must be Dense (it gives the logits), got {layers[-1]!r}")
    for layer in tail:
        if not isinstance(layer, (F.Dense, F.Activation)):
            raise ValueError(f"fit_stacked supports Dense, Conv2D, Flatten and element-wise Activation "
                             f"layers; got {layer!r}")
    return convs, len(head) + bool(flat)


class _Stack:
    """R networks of one architecture with their parameters stacked along axis 0.

    The dense part is kept as :mod:`fcnn_lib.backprop`'s lists: ``W[l]`` of shape
    (R, n_l, n_{l−1}) and ``b[l]`` of shape (R, n_l) for l = 1..L, with the library's
    ``f[l]`` and ``f_prime[l]``; the convolution layers (if any) in ``conv_W[c]``,
    (R, C_out, C_in, k_h, k_w), and ``conv_b[c]``, (R, C_out).
    """

    def __init__(self, nets):
        import fcnn_lib as F

        self.convs, tail_start = _architecture(nets)
        self.R = len(nets)
        tails = [F.backprop.lists(F.Sequential(net.layers[tail_start:], loss=net.loss_name)) for net in nets]
        L = len(tails[0][0]) - 1
        self.W = [None] + [np.stack([t[0][l] for t in tails]) for l in range(1, L + 1)]
        self.b = [None] + [np.stack([t[1][l] for t in tails]) for l in range(1, L + 1)]
        self.f, self.f_prime = tails[0][2], tails[0][3]
        conv_layers = [[layer for layer in net.layers[:tail_start] if isinstance(layer, F.Conv2D)] for net in nets]
        self.conv_W = [np.stack([ls[c].W for ls in conv_layers]) for c in range(len(self.convs))]
        self.conv_b = [np.stack([ls[c].b for ls in conv_layers]) for c in range(len(self.convs))]
        self.conv_f = [None if s.act is None else F.get_activation(s.act) for s in self.convs]

    # -- forward and backward -----------------------------------------------------
    def forward(self, A):
        """Stacked forward pass of inputs A, (R, B, n_0) or (R, B, C, H, W).

        Returns (z, a, conv_cache): backprop's lists for the dense part (``a[L]`` holds
        the logits, (R, B, n_L)) and what the convolution layers' backward pass needs.
        """
        import fcnn_lib as F

        R, B = A.shape[:2]
        cache = []
        for c, spec in enumerate(self.convs):
            W, b = self.conv_W[c], self.conv_b[c]
            c_out = W.shape[1]
            _, _, C, H, Wd = A.shape
            Ho, Wo = F.conv_output_shape((R * B, C, H, Wd), spec.kernel, spec.stride, spec.padding)
            cols = F.im2col(A.reshape(R * B, C, H, Wd), spec.kernel, spec.stride, spec.padding)
            cols = cols.reshape(R, B * Ho * Wo, -1)
            # eq-im2col for every run: cols @ W_matᵀ + b, back to (R, B, C_out, Ho, Wo)
            Z = (cols @ W.reshape(R, c_out, -1).mT + b[:, None, :]).reshape(R, B, Ho, Wo, c_out)
            Z = Z.transpose(0, 1, 4, 2, 3)
            cache.append((cols, A.shape, Z))
            A = Z if self.conv_f[c] is None else self.conv_f[c][0](Z)
        if self.convs:
            A = A.reshape(R, B, -1)  # Flatten: C-order, as fcnn_lib.Flatten
        z, a = F.backprop.forward(self.W, self.b, A, self.f)
        return z, a, cache

    def backward(self, G, z, a, cache):
        """Stacked gradients from G = ∂J/∂logits, (R, B, n_L): (dW, db, conv_dW, conv_db).

        The dense part is :func:`fcnn_lib.backprop.backward`; the convolution layers
        follow ``eq-conv-backward`` (as :func:`fcnn_lib.conv2d_backward`) run by run
        along the stacked axis. The first layer computes no input gradient.
        """
        import fcnn_lib as F

        delta, dW, db = F.backprop.backward(self.W, z, a, G, self.f_prime)
        conv_dW, conv_db = [None] * len(self.convs), [None] * len(self.convs)
        if self.convs:
            # ∂J/∂(input of dense layer 1) = Δ⁽¹⁾ W⁽¹⁾, the product BP2 takes (Dense's dX = G W),
            # reshaped from Flatten's rows to the last convolution's output
            G = (delta[1] @ self.W[1]).reshape(cache[-1][2].shape)
        for c in range(len(self.convs) - 1, -1, -1):
            cols, in_shape, Z = cache[c]
            W = self.conv_W[c]
            R, c_out = W.shape[:2]
            if self.conv_f[c] is not None:
                G = G * self.conv_f[c][1](Z)
            Gm = G.transpose(0, 1, 3, 4, 2).reshape(R, -1, c_out)  # (R, B·Ho·Wo, C_out)
            conv_dW[c] = (Gm.mT @ cols).reshape(W.shape)
            conv_db[c] = Gm.sum(axis=-2)
            if c > 0:
                spec = self.convs[c]
                _, B, C, H, Wd = in_shape
                dcols = Gm @ W.reshape(R, c_out, -1)
                G = F.col2im(dcols.reshape(-1, dcols.shape[-1]), (R * B, C, H, Wd),
                             spec.kernel, spec.stride, spec.padding).reshape(in_shape)
        return dW, db, conv_dW, conv_db

    def logits(self, X):
        """The logits (R, m, n_L) of every run on its own inputs X."""
        return self.forward(X)[1][-1]

    def parameters(self):
        """The stacked parameters in the library's order (W1, b1, W2, b2, …)."""
        out = []
        for c in range(len(self.convs)):
            out += [self.conv_W[c], self.conv_b[c]]
        for l in range(1, len(self.W)):
            out += [self.W[l], self.b[l]]
        return out

    @staticmethod
    def gradients(grads):
        """The gradients of :meth:`backward` in the order of :meth:`parameters`."""
        dW, db, conv_dW, conv_db = grads
        out = []
        for c in range(len(conv_dW)):
            out += [conv_dW[c], conv_db[c]]
        for l in range(1, len(dW)):
            out += [dW[l], db[l]]
        return out

    def write_back(self, nets):
        """Put run r's parameters into ``nets[r]`` (through the library's set_params)."""
        P = self.parameters()
        for r, net in enumerate(nets):
            net.set_params([(P[k][r], P[k + 1][r]) for k in range(0, len(P), 2)])


def _as_stack(X, R, what):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 3 or X.shape[0] != R:
        raise ValueError(f"{what} must be a stack of shape (R, m, ...) with R = {R} runs, got shape {X.shape}")
    return X


def _loss_gradient(logits, Y):
    """∂J/∂logits of every run's mean softmax cross-entropy: (softmax(Z) − Y)/B, (R, B, n).

    Book equation ``eq-bp1-softmax-ce``, with the library's softmax over all runs' rows
    at once. Run r's slice is, bit for bit, the gradient that
    ``F.softmax_cross_entropy(Z[r], Y[r])`` returns (the same row-wise softmax, minus Y,
    divided by the batch size; ``tests/test_book_experiments.py`` checks it). That
    function takes one batch of shape (m, n) and checks its input on every call; called
    run by run it would cost more than the rest of the stacked step.
    """
    import fcnn_lib as F

    R, B, n = logits.shape
    return (F.softmax(logits.reshape(R * B, n)).reshape(R, B, n) - Y) / B


def _loss_values(logits, Y):
    """The mean softmax cross-entropy of every run, (R,), by the library's loss."""
    import fcnn_lib as F

    return np.array([F.softmax_cross_entropy(logits[r], Y[r]).value for r in range(len(logits))])


def _accuracy(stack, X, y):
    return np.mean(stack.logits(X).argmax(axis=-1) == y, axis=1)


def fit_stacked(nets, X, Y, *, epochs, batch_size, lr, order_rngs, weight_decay=0.0, evaluate=None,
                record_loss=False):
    """Train R networks of one architecture together; the same result as R calls of ``fit``.

    Run r is ``nets[r].fit(X[r], Y[r], epochs=epochs, batch_size=batch_size, lr=lr,
    rng=order_rngs[r], weight_decay=weight_decay[r])``: each epoch it draws
    ``order_rngs[r].permutation(m)`` and takes one gradient step (book equation
    ``eq-gd``) per mini-batch of that order, with the loss gradient of
    ``eq-bp1-softmax-ce`` (the library's softmax), the library's δ recursion
    (:mod:`fcnn_lib.backprop`, on a leading run axis) and ``λW`` added to each weight
    gradient (``eq-weight-decay``). Every run takes the same floating-point operations
    as ``fit`` does on its own arrays (a stacked matrix product is one product per
    run, and every other step acts entry by entry), so the trained parameters equal
    those of ``fit`` bit for bit; ``tests/test_book_experiments.py`` checks it with
    ``np.array_equal`` for every layer kind, and chapter 8 for some of its runs.

    Parameters
    ----------
    nets : list of R fcnn_lib.Sequential
        Same architecture (see the module notes), loss ``"softmax_cross_entropy"``;
        their current parameters are the starting point, and the trained parameters are
        written back into them.
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

    history = {name: np.zeros((R, epochs)) for name in evaluate}
    if record_loss:
        history["loss"] = np.zeros((R, epochs))
    with one_blas_thread():
        _train(stack, X, Y, history, evaluate, order_rngs, epochs, batch_size, lr, lam, record_loss)
    stack.write_back(nets)
    return history


def _train(stack, X, Y, history, evaluate, order_rngs, epochs, batch_size, lr, lam, record_loss):
    """The epochs of :func:`fit_stacked` (arguments already checked)."""
    R, m = X.shape[:2]
    runs = np.arange(R)[:, None]
    decay = lam[:, None, None] if np.any(lam > 0) else None  # λ of each run, against (R, ·, ·)
    decay_conv = None if decay is None else lam[:, None, None, None, None]
    for epoch in range(epochs):
        order = np.stack([g.permutation(m) for g in order_rngs])  # (R, m), as fit draws it
        # Each run's examples in this epoch's order, gathered once; a mini-batch is then a slice.
        X_e, Y_e = X[runs, order], Y[runs, order]
        losses = []
        for start in range(0, m, batch_size):
            batch = slice(start, start + batch_size)
            Xb, Yb = X_e[:, batch], Y_e[:, batch]
            z, a, cache = stack.forward(Xb)
            G = _loss_gradient(a[-1], Yb)
            grads = stack.gradients(stack.backward(G, z, a, cache))
            params = stack.parameters()
            if record_loss:
                penalty = 0.5 * lam * sum(np.sum(P.reshape(R, -1) ** 2, axis=1) for P in params[::2])
                losses.append(_loss_values(a[-1], Yb) + penalty)
            for k, (P, g) in enumerate(zip(params, grads)):
                if decay is not None and k % 2 == 0:  # a weight: ∂J/∂W + λW (eq-weight-decay)
                    g = g + (decay if P.ndim == 3 else decay_conv) * P
                P -= lr * g  # θ ← θ − η g, in place (eq-gd), as the library's update
        if record_loss:
            history["loss"][:, epoch] = np.mean(losses, axis=0)
        for name, (Xe, ye) in evaluate.items():
            history[name][:, epoch] = _accuracy(stack, Xe, ye)


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
def t_quantile(q, df):
    """The q-quantile of Student's t distribution with ``df`` degrees of freedom.

    By bisection on the distribution function, which is integrated numerically from
    the density (Simpson's rule); accurate to about 1e-9 for 0.5 ≤ q ≤ 0.9995. With
    q = 0.975 it is the factor of a two-sided 95 % interval (e.g. 3.182 for df = 3,
    12.71 for df = 1).
    """
    q = float(q)
    if not 0.5 <= q < 1.0:
        raise ValueError(f"q must lie in [0.5, 1), got {q}")
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise ValueError(f"df must be a positive integer, got {df!r}")
    nu = float(df)
    log_c = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)

    def cdf(t):  # P(T <= t) for t >= 0
        x = np.linspace(0.0, t, 4001)
        f = np.exp(log_c - (nu + 1) / 2 * np.log1p(x * x / nu))
        return 0.5 + (x[1] - x[0]) / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())

    lo, hi = 0.0, 1.0
    while cdf(hi) < q:
        lo, hi = hi, 2 * hi
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < q else (lo, mid)
    return (lo + hi) / 2


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

    def interval(self, groups, level=0.95):
        """A ``level`` interval for the mean paired difference, from the group means.

        The runs are grouped (chapter 8: by fold, each group holding every seed); each
        group's mean difference counts as one observation, and the interval is
        mean ± t · sd(group means)/√G with t the Student quantile for G − 1 degrees of
        freedom (:func:`t_quantile`). It treats the G group means as independent draws,
        so it allows for a difference that varies from group to group, which an
        interval over all runs (as if every run were independent) would not.

        Parameters
        ----------
        groups : array of shape (R,)
            The group of each run; every group must hold the same number of runs.

        Returns
        -------
        (mean, low, high)
            The mean paired difference (the mean of the group means) and the interval.
        """
        groups = np.asarray(groups)
        d = self.diff
        if groups.shape != d.shape:
            raise ValueError(f"groups must give one group per run, shape {d.shape}; got {groups.shape}")
        labels, counts = np.unique(groups, return_counts=True)
        if labels.size < 2 or np.any(counts != counts[0]):
            raise ValueError(f"need at least 2 groups of equal size, got sizes {counts.tolist()}")
        if not 0 < level < 1:
            raise ValueError(f"level must lie in (0, 1), got {level}")
        means = np.array([d[groups == g].mean() for g in labels])
        mu = float(means.mean())
        half = t_quantile(0.5 + level / 2, labels.size - 1) * float(means.std(ddof=1)) / math.sqrt(labels.size)
        return mu, mu - half, mu + half


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
        every name (run r of each configuration used the same seed and fold).
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


def format_table(results, comparisons, groups, *, scale=100.0, digits=2, title=""):
    """A text table in two blocks: mean ± sd of every configuration in ``results``;
    then paired differences, run by run: their mean (sd over runs), the 95 % interval
    of :meth:`Comparison.interval` and in how many runs the difference is positive,
    zero, negative.

    ``comparisons`` is the name of the reference in ``results`` (every other
    configuration minus it, by :func:`paired_summary`) or a list of
    :class:`Comparison`, each shown under its own name. ``scale`` multiplies every
    value (100 for accuracies shown in percentage points). The table is at most 64
    characters wide for names up to 20 characters, so it reads on a phone.
    """
    from .numbers import stable  # the digits the glued prose shows (e.g. 96.375 as 96.38 in both)

    if isinstance(comparisons, str):
        header = f"paired difference with {comparisons}"
        comparisons = paired_summary(results, comparisons)
    else:
        header = "paired differences"
    names = [str(n) for n in results] + [c.name for c in comparisons]
    width = max(max(len(n) for n in names), len("setting")) + 2
    n = len(np.atleast_1d(next(iter(results.values()))))
    lines = [title] if title else []
    lines.append(f"{'setting':{width}s}{'mean ± sd':>14s}")
    for name, values in results.items():
        mu, sd = (stable(v) for v in mean_sd(np.asarray(values) * scale))
        lines.append(f"{str(name):{width}s}{f'{mu:.{digits}f} ± {sd:.{digits}f}':>14s}")
    lines.append(f"{header}, over {n} runs:")
    lines.append(f"{'':{width}s}{'mean (sd)':>13s}{'95 % interval':>17s}{'+':>4s}{'=':>3s}{'−':>3s}")
    for c in comparisons:
        dmu, dsd = (stable(v) for v in mean_sd(c.diff * scale))
        _, lo, hi = (stable(scale * v) for v in c.interval(groups))
        ci = f"[{lo:+.{digits}f}, {hi:+.{digits}f}]"
        lines.append(f"{c.name:{width}s}{f'{dmu:+.{digits}f} ({dsd:.{digits}f})':>13s}{ci:>17s}"
                     f"{c.wins:4d}{c.ties:3d}{c.losses:3d}")
    lines.append("+ = −: runs in which the difference is positive, zero, negative")
    return "\n".join(lines)


def glue_comparison(key, comparison, groups, *, scale=100.0):
    """Glue what the prose states about one paired comparison, under ``key``:
    ``-diff`` (mean paired difference) and ``-diff-sd`` (sd over runs), ``-lo`` and
    ``-hi`` (the 95 % interval of :meth:`Comparison.interval`), all times ``scale``,
    and the counts ``-higher``, ``-equal``, ``-lower``.

    Returns
    -------
    dict
        Suffix (``"diff"``, ``"lo"``, …) → the glued value, as the text shows it.
    """
    from .numbers import glue

    mu, sd = mean_sd(comparison.diff * scale)
    _, lo, hi = (scale * v for v in comparison.interval(groups))
    values = {"diff": mu, "diff-sd": sd, "lo": lo, "hi": hi, "higher": comparison.wins,
              "equal": comparison.ties, "lower": comparison.losses}
    return {suffix: glue(f"{key}-{suffix}", value) for suffix, value in values.items()}


def binomial_se(p, n):
    """Standard error sqrt(p(1 − p)/n) of an accuracy p measured on n independent images."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a proportion in [0, 1], got {p}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return math.sqrt(p * (1.0 - p) / n)


def wilson_interval(k, n, level=0.95):
    """Wilson's score interval for a proportion: k successes in n independent trials.

    The set of p for which |k/n − p| ≤ z √(p(1 − p)/n), z the standard normal
    quantile (1.96 for 95 %): unlike the Wald interval k/n ± z √(p̂(1 − p̂)/n) it keeps
    its coverage when p̂ is near 0 or 1 and never leaves [0, 1].

    Returns
    -------
    (low, high)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"k must be an integer from 0 to n = {n}, got {k!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # at k = 0 (k = n) the low (high) end is 0 (1) exactly; round-off would miss it by an ulp
    return (0.0 if k == 0 else centre - half), (1.0 if k == n else centre + half)


def plot_paired(ax, comparisons, groups, *, scale=100.0, xlabel="difference in validation accuracy (points)"):
    """Draw the paired differences of ``comparisons`` (list of Comparison), one row each:
    every run as a dot, the mean with its 95 % interval (:meth:`Comparison.interval`)
    as a bar, and zero as a vertical line."""
    rng = np.random.default_rng(0)  # vertical jitter only, so equal dots stay visible
    labels = []
    for row, c in enumerate(comparisons):
        d = c.diff * scale
        y = row + rng.uniform(-0.18, 0.18, size=d.size)
        ax.plot(d, y, "o", color="C0", alpha=0.6, markersize=5, label="one run" if row == 0 else None)
        mu, lo, hi = (scale * v for v in c.interval(groups))
        ax.errorbar([mu], [row], xerr=[[mu - lo], [hi - mu]], fmt="s", color="C1", markersize=7, capsize=4,
                    label="mean, 95 % interval" if row == 0 else None)
        labels.append(f"{c.name}\n− {c.reference_name}")
    ax.axvline(0.0, color="0.3", linewidth=1.0)
    ax.set_yticks(range(len(comparisons)))
    ax.set_yticklabels(labels)
    ax.set_ylim(len(comparisons) - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    return ax
