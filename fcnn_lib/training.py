"""Training by gradient descent: the update, one step, and the mini-batch loop.

Each function takes a network (:class:`~fcnn_lib.network.Sequential`, whose methods
``sgd_step``, ``train_step`` and ``fit`` call these) and uses only its ``forward``,
``backward`` and ``param_layers``:

- :func:`sgd_step` is the update θ ← θ − η ∂J/∂θ (book equation ``eq-gd``);
- :func:`train_step` is forward, backward and that update on one batch;
- :func:`fit` runs :func:`train_step` over mini-batches (:func:`minibatches`) for
  several epochs and returns the history of the objective.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_generator, check_nonempty, check_number, check_positive_int


def sgd_step(net, lr):
    """θ ← θ − η ∂J/∂θ for every parameter (book equation ``eq-gd``).

    Uses the gradients of the last ``backward`` (which already contain the
    weight-decay term). Each updated parameter is a new array, so arrays taken from
    ``net.params()`` before the step keep their values.

    Parameters
    ----------
    net : Sequential
    lr : float
        The learning rate η: a finite number > 0.
    """
    lr = check_number(lr, "learning rate lr", positive=True)
    for layer in net.param_layers:
        for k in layer.params:
            # θ − η g computed as (−η g) + θ: the same numbers, bit for bit, with one
            # temporary array fewer (see benchmarks/shortcuts.py for what that buys).
            new = layer.grads[k] * (-lr)
            new += layer.params[k]
            layer.params[k] = new


def train_step(net, X, Y, lr, weight_decay=0.0):
    """One step of gradient descent on the batch (X, Y); returns the objective before it.

    The gradients are those of ``net.gradients(X, Y, weight_decay)``, except that
    ∂J/∂X, which no update needs, is not computed (``backward(..., input_grad=False)``).

    Parameters
    ----------
    net : Sequential
    X : array of shape (m, n_in)
        At least one example.
    Y : array of the output's shape (m, n_out)
    lr : float
        Learning rate η, finite and > 0.
    weight_decay : float
        λ of the L2 penalty on weights (not biases), finite and >= 0.
    """
    check_number(lr, "learning rate lr", positive=True)
    net.forward(X)
    value = net.backward(Y, weight_decay, input_grad=False)
    sgd_step(net, lr)
    return value


def minibatches(m, batch_size, rng=None, shuffle=True):
    """The mini-batches of one epoch, as arrays of row indices.

    The rows are put in the order ``rng.permutation(m)`` (or 0, 1, …, m − 1 if not
    ``shuffle``) and cut into consecutive batches of ``batch_size`` rows; the last
    batch holds the m mod batch_size rows left over, if any. One call draws one
    permutation from ``rng``.

    Returns
    -------
    list of int arrays
    """
    m = check_positive_int(m, "number of examples m")
    batch_size = check_positive_int(batch_size, "batch_size")
    order = check_generator(rng, "minibatches").permutation(m) if shuffle else np.arange(m)
    return [order[start:start + batch_size] for start in range(0, m, batch_size)]


def fit(net, X, Y, *, epochs, batch_size, lr, rng, weight_decay=0.0, shuffle=True,
        callback=None):
    """Mini-batch gradient descent; returns the history.

    Every epoch draws the batches with :func:`minibatches` (one permutation from
    ``rng``) and takes one :func:`train_step` per batch, in order.

    Parameters
    ----------
    net : Sequential
    X : array of shape (m, n_in)
        Or (m, C, H, W) for a network that starts with a convolution layer; the
        batches are drawn along the first axis.
    Y : array of shape (m, n_out)
    epochs, batch_size : int
        Passes over the data and rows per step (the last batch may be smaller).
    lr : float
        Learning rate η, finite and > 0.
    rng : numpy.random.Generator
        Shuffles the rows each epoch (required even if ``shuffle`` is False).
    weight_decay : float
        λ of the L2 penalty on weights (not biases), finite and >= 0.
    shuffle : bool
        If False, every epoch visits the rows in their stored order.
    callback : callable, optional
        ``callback(epoch, net)`` after each epoch (epoch counts from 0); a returned
        dict's items are appended to the history under their keys.

    Returns
    -------
    dict
        ``"loss"``: the mean objective of each epoch's batches (one entry per epoch);
        ``"batch_loss"``: the objective of every step, before its update; plus
        whatever the callback returned.
    """
    X = as_float_array(X, "input X")
    if X.ndim < 2:
        raise ValueError(
            f"input X must hold one example per row, shape (m, n_in) or (m, C, H, W); "
            f"got shape {X.shape} ({X.ndim} dimension(s))"
        )
    check_nonempty(X, "input X")
    Y = as_float_array(Y, "labels Y")
    if Y.ndim == 0 or Y.shape[0] != X.shape[0]:
        rows = Y.shape[0] if Y.ndim else "no rows"
        raise ValueError(f"X has {X.shape[0]} example(s) (rows) but Y has {rows} (shape {Y.shape})")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    check_number(lr, "learning rate lr", positive=True)
    check_number(weight_decay, "weight_decay")
    check_generator(rng, "fit")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function callback(epoch, net) or None, got {callback!r}")
    history = {"loss": [], "batch_loss": []}
    for epoch in range(epochs):
        losses = [train_step(net, X[idx], Y[idx], lr, weight_decay)
                  for idx in minibatches(X.shape[0], batch_size, rng, shuffle)]
        history["batch_loss"].extend(losses)
        history["loss"].append(float(np.mean(losses)))
        extra = None if callback is None else callback(epoch, net)
        if extra is None:
            continue
        if not isinstance(extra, dict):
            raise TypeError(f"callback must return None or a dict of values to record, got {type(extra).__name__}")
        for key, value in extra.items():
            if key in ("loss", "batch_loss"):
                raise ValueError(f"callback returned key {key!r}, which fit records itself; choose another name")
            history.setdefault(key, []).append(value)
    return history
