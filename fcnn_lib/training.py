"""Training by gradient descent: the update, one step, and the mini-batch loop.

Each function takes a network (:class:`~fcnn_lib.network.Sequential`, whose methods
``sgd_step``, ``train_step`` and ``fit`` call these) and uses only its public
``forward``, ``backward``, ``param_layers``, ``params``, ``output_grads`` and
``discard_pass``:

- :func:`sgd_step` is the update θ ← θ − η ∂J/∂θ (book equation ``eq-gd``);
- :func:`train_step` is forward, backward and that update on one batch;
- :func:`fit` runs :func:`train_step` over mini-batches (:func:`minibatches`) for
  several epochs and returns the history of the objective.
"""

from __future__ import annotations

import numpy as np

from ._checks import (as_float_array, check_generator, check_nonempty, check_number, check_positive_int,
                      first_non_finite)


def sgd_step(net, lr):
    """θ ← θ − η ∂J/∂θ for every parameter (book equation ``eq-gd``), in place.

    Uses the gradients of the last ``backward`` (which already contain the
    weight-decay term), which must belong to the current parameters: a second update
    without a new backward pass is refused. Each parameter array is updated in place
    (``theta -= lr * grad``, the same numbers as θ − η g), so an array taken from
    ``net.params()`` or kept by a layer follows the update. The network's stored
    forward and backward pass is then discarded (it belongs to the old parameters).

    Parameters
    ----------
    net : Sequential
    lr : float
        The learning rate η: a finite number > 0.
    """
    lr = check_number(lr, "learning rate lr", positive=True)
    if net.output_grads is None:
        raise RuntimeError(
            "sgd_step uses the gradients of a backward pass on the current parameters; call "
            "backward(Y) (or gradients(X, Y)) first: there was none since the parameters last changed"
        )
    for l, layer in enumerate(net.param_layers, start=1):
        for name, theta in layer.params.items():
            if not (isinstance(theta, np.ndarray) and theta.dtype == np.float64 and theta.flags.writeable):
                raise TypeError(
                    f"parameter {name}{l} of {layer!r} must be a writable float64 numpy array, which "
                    f"the update changes in place; got {type(theta).__name__} "
                    f"{getattr(theta, 'dtype', '')}"
                )
            theta -= lr * layer.grads[name]
    net.discard_pass()


def train_step(net, X, Y, lr, weight_decay=0.0):
    """One step of gradient descent on the batch (X, Y); returns the objective before it.

    Forward, backward and :func:`sgd_step`. The gradients are those of
    ``net.gradients(X, Y, weight_decay)``, except that ∂J/∂X, which no update needs,
    is not computed (``backward(..., input_grad=False)``). The network's output and
    the objective J are checked to be finite before the update (else ValueError, and
    the parameters are left unchanged), and every parameter after it (else
    ValueError naming the parameter and the learning rate: gradient descent diverged).

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
    lr = check_number(lr, "learning rate lr", positive=True)
    net.forward(X)
    value = net.backward(Y, weight_decay, input_grad=False)  # J is checked to be finite
    sgd_step(net, lr)
    _check_params_finite(net, f"the update with learning rate lr = {lr:g} (J before it: {value:.6g})")
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
    _check_shuffle(shuffle)
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
        Or (m, C, n_h, n_w) for a network that starts with a convolution layer; the
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

    Raises
    ------
    ValueError
        As :func:`train_step` (e.g. when the objective or the parameters stop being
        finite), with the epoch and the step (both counted from 0) and the learning
        rate in the message.

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
            f"input X must hold one example per row, shape (m, n_in) or (m, C, n_h, n_w); "
            f"got shape {X.shape} ({X.ndim} dimension(s))"
        )
    check_nonempty(X, "input X")
    Y = as_float_array(Y, "labels Y")
    if Y.ndim == 0 or Y.shape[0] != X.shape[0]:
        rows = Y.shape[0] if Y.ndim else "no rows"
        raise ValueError(f"X has {X.shape[0]} example(s) (rows) but Y has {rows} (shape {Y.shape})")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_number(lr, "learning rate lr", positive=True)
    check_number(weight_decay, "weight_decay")
    check_generator(rng, "fit")
    _check_shuffle(shuffle)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function callback(epoch, net) or None, got {callback!r}")
    history = {"loss": [], "batch_loss": []}
    for epoch in range(epochs):
        losses = []
        for step, idx in enumerate(minibatches(X.shape[0], batch_size, rng, shuffle)):
            try:
                losses.append(train_step(net, X[idx], Y[idx], lr, weight_decay))
            except ValueError as exc:
                raise ValueError(f"fit, epoch {epoch}, step {step} (learning rate lr = {lr:g}): {exc}") from exc
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


def _check_shuffle(shuffle):
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r} ({type(shuffle).__name__})")


def _check_params_finite(net, where):
    """Refuse parameters that are NaN or inf (an update diverged), naming them."""
    for name, theta in net.params().items():
        if not np.isfinite(theta).all():
            raise ValueError(
                f"{where} made parameter {name} not finite ({first_non_finite(theta)}): gradient "
                f"descent diverged; try a smaller learning rate"
            )
