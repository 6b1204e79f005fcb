"""A sequential network: forward pass, the δ recursion, SGD with weight decay, training.

The backward pass runs the layers' ``backward`` methods from the loss to the input.
For a dense network this *is* the δ recursion of chapter 5: the gradient arriving at
the output of dense layer l is δ⁽ˡ⁾ = ∂J/∂z⁽ˡ⁾ (one row per example), and
:meth:`Sequential.trace` exposes every z⁽ˡ⁾, a⁽ˡ⁾ and δ⁽ˡ⁾ so chapters can print them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_generator, check_positive_int, lookup
from .layers import Activation, Dense, Layer
from .losses import LOSSES


class LayerTrace(NamedTuple):
    """Values of dense layer ``l`` after a forward and backward pass (batch rows).

    z : (m, n_l) pre-activation; a : (m, n_l) activation (equal to z when no
    activation follows); delta : (m, n_l) δ⁽ˡ⁾ = ∂J/∂z⁽ˡ⁾; dW : (n_l, n_{l−1});
    db : (n_l,). ``a_prev`` is a⁽ˡ⁻¹⁾, the layer's input (a⁽⁰⁾ = X).
    """

    l: int
    a_prev: np.ndarray
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray | None
    dW: np.ndarray
    db: np.ndarray


class Sequential:
    """A chain of layers followed by a loss.

    Parameters
    ----------
    layers : list of Layer
        Applied in order; e.g. ``[Dense(2, 3), Activation("sigmoid"), Dense(3, 1)]``.
    loss : str
        A name from :data:`fcnn_lib.losses.LOSSES` (the fused ``softmax_cross_entropy``
        and ``sigmoid_cross_entropy`` take logits, so the last layer is then Dense).
    """

    def __init__(self, layers, loss="mse"):
        layers = list(layers)
        if not layers:
            raise ValueError("a network needs at least one layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a fcnn_lib Layer, got {type(layer).__name__}")
        self.loss_name = loss
        self._loss = lookup(loss, LOSSES, "loss")
        if (
            loss in ("softmax_cross_entropy", "sigmoid_cross_entropy")
            and isinstance(layers[-1], Activation)
            and layers[-1].name != "identity"
        ):
            raise ValueError(
                f"loss {loss!r} applies its own {loss.split('_')[0]} to logits, but the "
                f"last layer is {layers[-1]!r}; end the network with a Dense layer"
            )
        self.layers = layers
        self.outputs = None
        self.output_grads = None

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], loss={self.loss_name!r})"

    # ------------------------------------------------------------------ parameters
    @property
    def param_layers(self):
        """The layers that own parameters, in order (dense layer l is entry l − 1)."""
        return [layer for layer in self.layers if layer.params]

    def _named(self, attr):
        out = {}
        for l, layer in enumerate(self.param_layers, start=1):
            for key, value in getattr(layer, attr).items():
                out[f"{key}{l}"] = value
        return out

    def params(self):
        """Dict name → parameter array (the live arrays): ``W1``, ``b1``, ``W2``, …"""
        return self._named("params")

    def grads(self):
        """Dict name → gradient from the last :meth:`backward`, same names as :meth:`params`."""
        return self._named("grads")

    def set_params(self, pairs):
        """Set every parameter explicitly, for worked examples with given numbers.

        Parameters
        ----------
        pairs : list of (W, b)
            One pair per parametrised layer, in order; W of shape (n_out, n_in) and b
            of shape (n_out,) for a dense layer. Nested lists are accepted.
        """
        pairs = list(pairs)
        targets = self.param_layers
        if len(pairs) != len(targets):
            raise ValueError(
                f"set_params got {len(pairs)} (W, b) pair(s) but the network has "
                f"{len(targets)} parametrised layer(s): {targets}"
            )
        for layer, pair in zip(targets, pairs):
            if len(pair) != 2:
                raise ValueError(f"each entry must be a (W, b) pair, got {len(pair)} item(s)")
            layer.set_params(*pair)

    def initialize(self, scheme, rng, *, scale=0.01):
        """Redraw every parameter with ``scheme`` ("normal", "xavier", "he" or "zeros")."""
        if scheme != "zeros":
            check_generator(rng, f"initialize({scheme!r})")
        for layer in self.param_layers:
            layer.initialize(scheme, rng, scale=scale)

    # ------------------------------------------------------------------ passes
    def forward(self, X):
        """Run every layer on X of shape (m, n_in); returns the output (m, n_out).

        X is checked once, here (real, finite numbers); each layer then receives an
        array the network computed itself, through the layer's unchecked ``_forward``
        (each layer still checks the shape it expects).
        """
        out = as_float_array(X, "input X")
        outputs = [out]
        for layer in self.layers:
            out = layer._forward(out)
            outputs.append(out)
        self.outputs = outputs
        self.output_grads = None
        return out

    predict = forward

    def _check_labels(self, Y):
        Y = as_float_array(Y, "labels Y")
        out = self.outputs[-1]
        if Y.ndim >= 1 and out.shape[0] != Y.shape[0]:
            raise ValueError(
                f"X has {out.shape[0]} example(s) (rows) but Y has {Y.shape[0]}; "
                f"X gave output shape {out.shape}, Y has shape {Y.shape}"
            )
        return Y

    def penalty(self, weight_decay):
        """The weight-decay term λ/2 Σ_l ‖W⁽ˡ⁾‖² (book equation ``eq-weight-decay``)."""
        weight_decay = float(weight_decay)
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        if weight_decay == 0:
            return 0.0
        return 0.5 * weight_decay * sum(
            float(np.sum(layer.params[k] ** 2)) for layer in self.param_layers for k in layer.decay
        )

    def loss(self, X, Y, weight_decay=0.0):
        """Objective J(X, Y) = loss(output, Y) + λ/2 Σ‖W‖² after a forward pass."""
        self.forward(X)
        Y = self._check_labels(Y)
        return self._loss(self.outputs[-1], Y).value + self.penalty(weight_decay)

    def backward(self, Y, weight_decay=0.0, *, input_grad=True):
        """Backpropagate from the loss at the last forward output to the input.

        Stores every layer's parameter gradients (with λW added to each weight
        gradient, never to biases) and ∂J/∂(output of each layer) in
        ``output_grads``; returns the objective value. Call :meth:`forward` first.

        With ``input_grad=False`` the first layer computes only its parameter
        gradients, not ∂J/∂X (training never needs it; for a Dense first layer that
        saves the product G W, as large as the layer's forward product), and
        ``output_grads[0]`` is None. Every other value is the same.
        """
        if self.outputs is None:
            raise RuntimeError("call forward(X) before backward(Y)")
        Y = self._check_labels(Y)
        value, g = self._loss(self.outputs[-1], Y)
        grads = [None] * (len(self.layers) + 1)
        grads[-1] = g
        # The loss gradient and everything after it are computed here from checked
        # inputs, so the layers' gradients skip the NaN/inf scan (shapes still checked).
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            g = layer._check_grad_out(g, scan=False)
            if i == 0 and not input_grad:
                layer._backward_params(g)
                g = None
            else:
                g = layer._backward(g)
            grads[i] = g
        self.output_grads = grads
        penalty = self.penalty(weight_decay)
        if penalty:
            for layer in self.param_layers:
                for k in layer.decay:
                    layer.grads[k] = layer.grads[k] + weight_decay * layer.params[k]
        return value + penalty

    def gradients(self, X, Y, weight_decay=0.0):
        """Forward then backward; returns (objective value, dict of gradients)."""
        self.forward(X)
        value = self.backward(Y, weight_decay)
        return value, self.grads()

    def trace(self):
        """Per dense layer l = 1..L: a⁽ˡ⁻¹⁾, z⁽ˡ⁾, a⁽ˡ⁾, δ⁽ˡ⁾, dW, db (see :class:`LayerTrace`).

        Needs a forward pass; ``delta``, ``dW`` and ``db`` come from the last backward
        (``delta`` is None before one).
        """
        if self.outputs is None:
            raise RuntimeError("call forward(X) first")
        rows = []
        l = 0
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Dense):
                continue
            l += 1
            nxt = self.layers[i + 1] if i + 1 < len(self.layers) else None
            a = self.outputs[i + 2] if isinstance(nxt, Activation) else self.outputs[i + 1]
            delta = None if self.output_grads is None else self.output_grads[i + 1]
            rows.append(LayerTrace(l, self.outputs[i], self.outputs[i + 1], a, delta,
                                   layer.grads["W"], layer.grads["b"]))
        return rows

    # ------------------------------------------------------------------ training
    def sgd_step(self, lr):
        """θ ← θ − η ∂J/∂θ for every parameter, using the gradients of the last backward
        (which already contain the weight-decay term). Book equation ``eq-gd``."""
        lr = float(lr)
        if not lr > 0:
            raise ValueError(f"learning rate must be > 0, got {lr}")
        for layer in self.param_layers:
            for k in layer.params:
                # θ − η g computed as (−η g) + θ: the same numbers bit for bit, with one
                # temporary array fewer (large temporaries cost page faults). The result
                # is a new array, so arrays taken from params() earlier keep old values.
                new = layer.grads[k] * (-lr)
                new += layer.params[k]
                layer.params[k] = new

    def train_step(self, X, Y, lr, weight_decay=0.0):
        """One step of gradient descent on the batch (X, Y); returns the objective before it.

        The gradients are those of :meth:`gradients`, except that ∂J/∂X, which no
        update needs, is not computed (``backward(..., input_grad=False)``).
        """
        self.forward(X)
        value = self.backward(Y, weight_decay, input_grad=False)
        self.sgd_step(lr)
        return value

    def fit(self, X, Y, *, epochs, batch_size, lr, rng, weight_decay=0.0, shuffle=True,
            callback=None):
        """Mini-batch SGD; returns the history.

        Parameters
        ----------
        X : array of shape (m, n_in)
            Or (m, C, H, W) for a network that starts with a convolution layer; the
            batches are drawn along the first axis.
        Y : array of shape (m, n_out)
        epochs, batch_size : int
            Passes over the data and rows per step (the last batch may be smaller).
        lr : float
            Learning rate η.
        rng : numpy.random.Generator
            Shuffles the rows each epoch.
        weight_decay : float
            λ of the L2 penalty on weights (not biases).
        callback : callable, optional
            ``callback(epoch, net)`` after each epoch; a returned dict's items are
            appended to the history under their keys.

        Returns
        -------
        dict
            ``"loss"``: mean objective per epoch (over its batches); ``"batch_loss"``:
            the objective at every step; plus whatever the callback returned.
        """
        X = as_float_array(X, "input X")
        if X.ndim < 2:
            raise ValueError(
                f"input X must hold one example per row, shape (m, n_in) or (m, C, H, W); "
                f"got shape {X.shape} ({X.ndim} dimension(s))"
            )
        Y = as_float_array(Y, "labels Y")
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} example(s) (rows) but Y has {Y.shape[0]} (shape {Y.shape})")
        epochs = check_positive_int(epochs, "epochs")
        batch_size = check_positive_int(batch_size, "batch_size")
        check_generator(rng, "fit")
        m = X.shape[0]
        history = {"loss": [], "batch_loss": []}
        for epoch in range(epochs):
            order = rng.permutation(m) if shuffle else np.arange(m)
            losses = []
            for start in range(0, m, batch_size):
                idx = order[start:start + batch_size]
                losses.append(self.train_step(X[idx], Y[idx], lr, weight_decay))
            history["batch_loss"].extend(losses)
            history["loss"].append(float(np.mean(losses)))
            if callback is not None:
                extra = callback(epoch, self)
                for key, value in (extra or {}).items():
                    history.setdefault(key, []).append(value)
        return history


def mlp(sizes, *, activation="sigmoid", output="identity", loss="mse", init="xavier",
        rng=None, scale=0.01, slope=0.01):
    """Build a fully connected network: Dense layers with an activation after each.

    Parameters
    ----------
    sizes : list of int
        [n_0, n_1, ..., n_L]: input size, hidden sizes, output size.
    activation : str
        Hidden-layer activation.
    output : str
        Output activation; ``"identity"`` adds no layer, so a⁽ᴸ⁾ = z⁽ᴸ⁾ (use it with the
        fused ``softmax_cross_entropy`` / ``sigmoid_cross_entropy`` losses).
    loss, init, rng, scale, slope
        As in :class:`Sequential`, :class:`~fcnn_lib.layers.Dense` and
        :class:`~fcnn_lib.layers.Activation`.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    for i, n in enumerate(sizes):
        check_positive_int(n, f"sizes[{i}]")
    layers = []
    for l in range(1, len(sizes)):
        layers.append(Dense(sizes[l - 1], sizes[l], init=init, rng=rng, scale=scale))
        name = activation if l < len(sizes) - 1 else output
        if name != "identity" or l < len(sizes) - 1:
            layers.append(Activation(name, slope=slope))
    return Sequential(layers, loss=loss)
