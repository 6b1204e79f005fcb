"""A sequential network: the forward pass, the δ recursion and the objective.

The backward pass runs the layers' ``backward`` methods from the loss to the input.
For a dense network this *is* the δ recursion of chapter 5 (written out on its own in
:mod:`fcnn_lib.backprop`): the gradient arriving at the output of dense layer l is
δ⁽ˡ⁾ = ∂J/∂z⁽ˡ⁾ (one row per example), and :meth:`Sequential.trace` exposes every
z⁽ˡ⁾, a⁽ˡ⁾ and δ⁽ˡ⁾ so chapters can print them. The network uses nothing of a layer
but the contract of :class:`~fcnn_lib.layers.Layer`. Training (the update, the
mini-batch loop) is in :mod:`fcnn_lib.training`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import training
from ._checks import as_float_array, check_number, check_positive_int, computed_arrays, lookup
from .layers import Activation, Dense, Layer
from .losses import LOSSES


class LayerTrace(NamedTuple):
    """Values of dense layer ``l`` after a forward and backward pass (batch rows).

    Fields: ``l``, the layer number (1 for the first dense layer); ``a_prev``, the
    layer's input a⁽ˡ⁻¹⁾ (a⁽⁰⁾ = X), of shape (m, n_{l−1}); ``z``, the pre-activation
    z⁽ˡ⁾, (m, n_l); ``a``, the activation a⁽ˡ⁾ (equal to z when no activation follows),
    (m, n_l); ``delta``, δ⁽ˡ⁾ = ∂J/∂z⁽ˡ⁾, (m, n_l), None before a backward pass;
    ``dW``, (n_l, n_{l−1}); ``db``, (n_l,).
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
        Any object that meets the :class:`~fcnn_lib.layers.Layer` contract.
    loss : str
        A name from :data:`fcnn_lib.losses.LOSSES` (default ``"mse"``; the fused
        ``softmax_cross_entropy`` and ``sigmoid_cross_entropy`` take logits, so the
        last layer is then Dense).

    Attributes
    ----------
    outputs : list
        After :meth:`forward`: the input X, then the output of every layer, in order
        (arrays).
    output_grads : list
        After :meth:`backward`: ∂J/∂(entry of ``outputs``), the same length
        (``output_grads[0]`` is None when ∂J/∂X was not computed).
    """

    def __init__(self, layers, loss="mse"):
        layers = list(layers)
        if not layers:
            raise ValueError("a network needs at least one layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"layer {i} must be a fcnn_lib Layer such as Dense(2, 3) or "
                    f"Activation('tanh'), got {layer!r} ({type(layer).__name__})"
                )
            if any(other is layer for other in layers[:i]):
                raise ValueError(
                    f"layer {i}, {layer!r}, is the same object as an earlier layer; a layer "
                    f"keeps its own input for backward, so create a new one for each position"
                )
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
            if not hasattr(layer, "set_params"):
                raise TypeError(f"{layer!r} has parameters but no set_params(W, b); set its params directly")
            layer.set_params(*pair)

    def initialize(self, scheme, rng=None, *, scale=0.01):
        """Redraw every parameter with ``scheme`` ("normal", "xavier", "he" or "zeros"),
        layer by layer in order, from ``rng`` (not needed for "zeros"); ``scale`` is the
        standard deviation of "normal" (default 0.01). See :mod:`fcnn_lib.init`."""
        for layer in self.param_layers:
            if not hasattr(layer, "initialize"):
                raise TypeError(f"{layer!r} has parameters but no initialize(scheme, rng, *, scale)")
            layer.initialize(scheme, rng, scale=scale)

    # ------------------------------------------------------------------ passes
    def forward(self, X):
        """Run every layer on X of shape (m, n_in); returns the output (m, n_out).

        X is checked here (real, finite numbers). Every later array is one the network
        computed from it, so the layers check its type and shape but do not scan it
        for NaN and inf again (they run inside ``computed_arrays()``).
        """
        out = as_float_array(X, "input X")
        outputs = [out]
        with computed_arrays():
            for layer in self.layers:
                out = layer.forward(out)
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
        weight_decay = check_number(weight_decay, "weight_decay")
        if weight_decay == 0:
            return 0.0
        return 0.5 * weight_decay * sum(
            float(np.sum(layer.params[k] ** 2)) for layer in self.param_layers for k in layer.decay
        )

    def loss(self, X, Y, weight_decay=0.0):
        """Objective J(X, Y) = loss(output, Y) + λ/2 Σ‖W‖² after a forward pass."""
        penalty = self.penalty(weight_decay)
        self.forward(X)
        Y = self._check_labels(Y)
        return self._loss(self.outputs[-1], Y).value + penalty

    def backward(self, Y, weight_decay=0.0, *, input_grad=True):
        """Backpropagate from the loss at the last forward output to the input.

        Stores every layer's parameter gradients (with λW added to each weight
        gradient, never to biases) and ∂J/∂(output of each layer) in
        ``output_grads``; returns the objective value. Call :meth:`forward` first.

        ``input_grad=False`` is the one shortcut of the training step: the first layer
        computes only its parameter gradients, not ∂J/∂X, which no update uses. For a
        Dense first layer that saves the product G W, as large as the layer's forward
        product (see ``benchmarks/``); ``output_grads[0]`` is then None and every other
        value is the same.
        """
        if self.outputs is None:
            raise RuntimeError("call forward(X) before backward(Y)")
        penalty = self.penalty(weight_decay)
        Y = self._check_labels(Y)
        value, g = self._loss(self.outputs[-1], Y)
        grads = [None] * len(self.outputs)
        grads[-1] = g
        with computed_arrays():
            for i in reversed(range(len(self.layers))):
                layer = self.layers[i]
                g = layer.backward(g, input_grad=input_grad or i > 0)
                if g is not None and np.shape(g) != self.outputs[i].shape:
                    raise ValueError(
                        f"{layer!r}.backward returned a gradient of shape {np.shape(g)}, but "
                        f"the layer's input had shape {self.outputs[i].shape}"
                    )
                grads[i] = g
        self.output_grads = grads
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
        """One gradient-descent update from the last backward; see :func:`fcnn_lib.training.sgd_step`."""
        training.sgd_step(self, lr)

    def train_step(self, X, Y, lr, weight_decay=0.0):
        """One step on the batch (X, Y); see :func:`fcnn_lib.training.train_step`."""
        return training.train_step(self, X, Y, lr, weight_decay)

    def fit(self, X, Y, *, epochs, batch_size, lr, rng, weight_decay=0.0, shuffle=True,
            callback=None):
        """Mini-batch gradient descent; see :func:`fcnn_lib.training.fit`."""
        return training.fit(self, X, Y, epochs=epochs, batch_size=batch_size, lr=lr, rng=rng,
                            weight_decay=weight_decay, shuffle=shuffle, callback=callback)


def mlp(sizes, *, activation="sigmoid", output="identity", loss="mse", init="xavier",
        rng=None, scale=0.01, slope=0.01):
    """Build a fully connected network: Dense layers with an activation after each.

    Parameters
    ----------
    sizes : list of int
        [n_0, n_1, ..., n_L]: input size, hidden sizes, output size.
    activation : str
        Hidden-layer activation (default ``"sigmoid"``).
    output : str
        Output activation (default ``"identity"``, which adds no layer, so
        a⁽ᴸ⁾ = z⁽ᴸ⁾; use it with the fused ``softmax_cross_entropy`` /
        ``sigmoid_cross_entropy`` losses).
    loss : str
        As in :class:`Sequential` (default ``"mse"``).
    init : str
        Initialisation scheme of every Dense layer (default ``"xavier"``); see
        :mod:`fcnn_lib.init`. The layers draw from ``rng`` in order, W before b.
    rng : numpy.random.Generator, optional
        Required unless ``init="zeros"``.
    scale : float
        Standard deviation of the ``"normal"`` scheme (default 0.01).
    slope : float
        Negative-side slope of ``"leaky_relu"`` (default 0.01).
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a list of layer sizes such as [2, 3, 1], got {sizes!r}")
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
