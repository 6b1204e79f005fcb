"""A sequential network: the forward pass, the δ recursion and the objective.

The backward pass runs the layers' ``backward`` methods from the loss to the input.
For a dense network this *is* the δ recursion of chapter 5 (written out on its own in
:mod:`fcnn_lib.backprop`): the gradient arriving at the output of dense layer l is
δ⁽ˡ⁾ = ∂J/∂z⁽ˡ⁾ (one row per example), and :meth:`Sequential.trace` exposes every
z⁽ˡ⁾, a⁽ˡ⁾ and δ⁽ˡ⁾ so chapters can print them. The network uses nothing of a layer
but the contract of :class:`~fcnn_lib.layers.Layer`, and checks that each layer keeps
it, naming the layer that does not. Training (the update, the mini-batch loop) is in
:mod:`fcnn_lib.training`.

Where NaN and inf are caught: the network scans its input X and the labels Y, checks
that its output and the objective are finite, and when they are not, names the first
layer whose output is not finite. The layers in between check the type and shape of
what they receive, not its finiteness (so an array is not scanned twice).
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from . import training
from ._checks import as_float_array, check_number, check_positive_int, first_non_finite, lookup
from .activations import DEFAULT_SLOPE, NAMES as ACTIVATION_NAMES, check_slope
from .layers import Activation, Dense, Layer
from .losses import LOSSES


class LayerTrace(NamedTuple):
    """Values of weighted layer ``l`` (a layer with parameters W and b, such as
    :class:`~fcnn_lib.layers.Dense`) after a forward and a backward pass (batch rows).

    Fields, with shapes for a dense layer:

    - ``l``: the layer's number in the parameter names (``W{l}``, ``b{l}``), so 1 for
      the first layer with parameters;
    - ``a_prev``: the layer's input a⁽ˡ⁻¹⁾ (a⁽⁰⁾ = X), of shape (m, n_{l−1});
    - ``z``: the layer's output z⁽ˡ⁾, (m, n_l);
    - ``a``: the activation a⁽ˡ⁾ = f(z⁽ˡ⁾), (m, n_l): the output of the next layer if
      that layer declares ``is_activation`` (as :class:`~fcnn_lib.layers.Activation`
      does), else z itself (no activation follows);
    - ``delta``: δ⁽ˡ⁾ = ∂J/∂z⁽ˡ⁾, (m, n_l) (book equation ``eq-delta-def``);
    - ``dW``: ∂J/∂W⁽ˡ⁾, (n_l, n_{l−1}); ``db``: ∂J/∂b⁽ˡ⁾, (n_l,) (``eq-bp-batch``).

    ``delta``, ``dW`` and ``db`` are None until :meth:`Sequential.backward` has run
    for the current forward pass.
    """

    l: int
    a_prev: np.ndarray
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray | None
    dW: np.ndarray | None
    db: np.ndarray | None


#: The library's losses by function, to name them and to check the last layer.
_LOSS_NAMES = {fn: name for name, fn in LOSSES.items()}

#: What each library loss needs the last layer to output: the fused losses take
#: logits, so probabilities there would pass through softmax or sigmoid twice; the
#: plain cross-entropies take probabilities. (See ``Layer.output_kind``.)
_LOGIT_LOSSES = {"softmax_cross_entropy": "softmax", "sigmoid_cross_entropy": "sigmoid"}
_PROBABILITY_LOSSES = {"binary_cross_entropy": "sigmoid_cross_entropy",
                       "categorical_cross_entropy": "softmax_cross_entropy"}


class Sequential:
    """A chain of layers followed by a loss.

    Parameters
    ----------
    layers : list of Layer
        Applied in order; e.g. ``[Dense(2, 3), Activation("sigmoid"), Dense(3, 1)]``.
        Any object that meets the :class:`~fcnn_lib.layers.Layer` contract.
    loss : str or callable
        A name from :data:`fcnn_lib.losses.LOSSES` (default ``"mse"``) or a function
        ``loss(prediction, y)`` returning ``(value, gradient)`` like those, e.g. a
        :class:`~fcnn_lib.losses.Loss`. The fused ``softmax_cross_entropy`` and
        ``sigmoid_cross_entropy`` take logits, so a last layer that declares
        probabilities as its output (``output_kind``, e.g. ``Activation("softmax")``)
        is refused; the plain cross-entropies take probabilities, so a last layer
        that declares real-valued output (e.g. Dense, ReLU) is refused.

    Attributes
    ----------
    outputs : list or None
        After :meth:`forward`: the input X, then the output of every layer, in order
        (arrays). None before a forward pass and after the parameters change.
    output_grads : list or None
        After :meth:`backward`: ∂J/∂(entry of ``outputs``), the same length
        (``output_grads[0]`` is None when ∂J/∂X was not computed). None until a
        backward pass for the current forward pass.
    """

    def __init__(self, layers, loss="mse"):
        if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
            raise TypeError(f"layers must be a list of layers such as [Dense(2, 3), Activation('tanh')], "
                            f"got {layers!r}")
        layers = list(layers)
        if not layers:
            raise ValueError("a network needs at least one layer, got an empty list")
        for i, layer in enumerate(layers):
            _check_layer(layer, i, layers[:i])
        self.loss_name, self._loss = _resolve_loss(loss)
        _check_last_layer(layers[-1], len(layers) - 1, self.loss_name)
        self.layers = layers
        self.outputs = None
        self.output_grads = None

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], loss={self.loss_name!r})"

    # ------------------------------------------------------------------ parameters
    @property
    def param_layers(self):
        """The layers that own parameters, in order. The l-th of them (counting from 1)
        gives the names of its parameters the suffix l: ``W1``, ``b1`` for the first,
        whatever kind of layer it is (Dense, Conv2D or a new one)."""
        return [layer for layer in self.layers if layer.params]

    def _named(self, attr):
        out = {}
        for l, layer in enumerate(self.param_layers, start=1):
            for key, value in getattr(layer, attr).items():
                out[f"{key}{l}"] = value
        return out

    def params(self):
        """Dict name → parameter array: ``W1``, ``b1``, ``W2``, … (see :attr:`param_layers`).

        These are the live arrays: the update changes them in place, and changing
        them changes the network."""
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
            of shape (n_out,) for a dense layer. Nested lists are accepted; the arrays
            are copied. The stored forward and backward pass is discarded.
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
        for layer, pair in zip(targets, pairs):
            layer.set_params(*pair)
        self.discard_pass()

    def initialize(self, scheme, rng=None, *, scale=0.01):
        """Redraw every parameter with ``scheme`` ("normal", "xavier", "he" or "zeros"),
        layer by layer in order, from ``rng`` (not needed for "zeros"); ``scale`` is the
        standard deviation of "normal" (default 0.01). See :mod:`fcnn_lib.init`. The
        stored forward and backward pass is discarded."""
        for layer in self.param_layers:
            if not hasattr(layer, "initialize"):
                raise TypeError(f"{layer!r} has parameters but no initialize(scheme, rng, *, scale)")
        for layer in self.param_layers:
            layer.initialize(scheme, rng, scale=scale)
        self.discard_pass()

    def discard_pass(self):
        """Forget the stored forward and backward pass (``outputs``, ``output_grads``).

        Called whenever the parameters change (:meth:`set_params`, :meth:`initialize`,
        the update of :func:`fcnn_lib.training.sgd_step`): what was stored belongs to
        the old parameters, so a backward pass or :meth:`trace` now needs a new
        forward pass. Call it yourself after changing parameters in place."""
        self.outputs = None
        self.output_grads = None

    # ------------------------------------------------------------------ passes
    def forward(self, X):
        """Run every layer on X of shape (m, n_in); returns the output (m, n_out).

        X is scanned for NaN and inf here; the layers check type and shape, and the
        functions they call (the activations) their input. The output is checked to be
        finite. A NaN or inf met on the way raises ValueError naming the first layer
        whose output is not finite (and its parameters, if they are not finite: an
        update diverged), so a pass can never end in NaN silently.
        """
        out = as_float_array(X, "input X")
        outputs = [out]
        self.outputs = self.output_grads = None
        for i, layer in enumerate(self.layers):
            try:
                out = layer.forward(out)
            except ValueError:
                # If the layer refused a NaN or inf (an activation function checks its
                # input), name the earlier layer that produced it; else re-raise.
                _raise_if_not_finite(self.layers, outputs)
                raise
            _check_output(layer, i, out, outputs[0].shape[0])
            outputs.append(out)
        if not np.isfinite(out).all():
            _raise_if_not_finite(self.layers, outputs)
        self.outputs = outputs
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
        """The weight-decay term λ/2 Σ_l ‖W⁽ˡ⁾‖² (book equation ``eq-weight-decay``),
        summed over the parameters each layer names in ``decay`` (weights, not biases)."""
        weight_decay = check_number(weight_decay, "weight_decay")
        if weight_decay == 0:
            return 0.0
        for i, layer in enumerate(self.layers):
            _check_decay(layer, i)
        return 0.5 * weight_decay * sum(
            float(np.sum(layer.params[k] ** 2)) for layer in self.param_layers for k in layer.decay
        )

    def _objective(self, Y, weight_decay):
        """(J, ∂loss/∂output) at the stored output: the loss plus the weight-decay term."""
        penalty = self.penalty(weight_decay)
        Y = self._check_labels(Y)
        value, grad = _call_loss(self._loss, self.loss_name, self.outputs[-1], Y)
        J = value + penalty
        if not math.isfinite(J):
            if not math.isfinite(penalty):
                what = (f"the weight-decay term λ/2 Σ‖W‖² is {penalty} for weight_decay = "
                        f"{weight_decay:g} (too large for these weights)")
            else:
                what = (f"the loss {self.loss_name} is {value} (while training: gradient descent "
                        f"diverging? try a smaller learning rate)")
            raise ValueError(f"the objective J is not finite: {what}")
        return J, grad

    def loss(self, X, Y, weight_decay=0.0):
        """Objective J(X, Y) = loss(output, Y) + λ/2 Σ‖W‖² (``eq-weight-decay``), a float.

        X of shape (m, n_in), Y of the output's shape (m, n_out); runs a forward pass.
        Raises ValueError if J is not finite.
        """
        check_number(weight_decay, "weight_decay")  # refused before any work
        self.forward(X)
        return self._objective(Y, weight_decay)[0]

    def backward(self, Y, weight_decay=0.0, *, input_grad=True):
        """Backpropagate from the loss at the last forward output to the input.

        Y has the output's shape (m, n_out). Stores every layer's parameter gradients
        (with λW added to each weight gradient, never to biases: ``eq-weight-decay``)
        and ∂J/∂(output of each layer) in ``output_grads`` (for a dense layer l the
        entry after it is δ⁽ˡ⁾ of ``eq-bp-batch``, shape (m, n_l)); returns the
        objective J. Call :meth:`forward` first.

        ``input_grad=False`` is the one shortcut of the training step: the first layer
        computes only its parameter gradients, not ∂J/∂X, which no update uses (if
        it declares ``can_skip_input_grad``). For a Dense first layer that saves the
        product G W, as large as the layer's forward product (see ``benchmarks/``);
        ``output_grads[0]`` is then None and every other value is the same.

        Each layer is checked against the contract: ∂J/∂(input) of its input's shape
        (None only where it was allowed to skip it) and a gradient of the right shape
        for every parameter; a breach names the layer.
        """
        if self.outputs is None:
            raise RuntimeError(
                "call forward(X) before backward(Y): there is no forward pass since the network "
                "was built or its parameters last changed"
            )
        value, g = self._objective(Y, weight_decay)
        grads = [None] * len(self.outputs)
        grads[-1] = g
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            skip = i == 0 and not input_grad and layer.can_skip_input_grad
            g = layer.backward(g, input_grad=False) if skip else layer.backward(g)
            _check_input_grad(layer, i, g, self.outputs[i].shape, may_be_none=skip)
            _check_param_grads(layer, i)
            grads[i] = g
        if weight_decay:
            weight_decay = float(weight_decay)
            for layer in self.param_layers:
                for k in layer.decay:
                    layer.grads[k] = layer.grads[k] + weight_decay * layer.params[k]
        self.output_grads = grads
        return value

    def gradients(self, X, Y, weight_decay=0.0):
        """Forward then backward on X (m, n_in) and Y (m, n_out); returns (objective J,
        dict name → gradient as :meth:`grads`, each of its parameter's shape, e.g. dW⁽ˡ⁾
        of shape (n_l, n_{l−1}) by ``eq-bp-batch``, with λW⁽ˡ⁾ added by
        ``eq-weight-decay``)."""
        check_number(weight_decay, "weight_decay")  # refused before any work
        self.forward(X)
        value = self.backward(Y, weight_decay)
        return value, self.grads()

    def trace(self):
        """Per weighted layer (parameters W and b: Dense, Conv2D): its input, output,
        activation, δ, dW and db, as :class:`LayerTrace` rows in order.

        Needs a forward pass since the parameters last changed; ``delta``, ``dW`` and
        ``db`` are None until a backward pass for that forward pass. A layer with other
        parameters gets no row but keeps its number, so ``trace()[k].l`` is always the
        number in the parameter names.
        """
        if self.outputs is None:
            raise RuntimeError(
                "call forward(X) first: there is no forward pass since the network was built "
                "or its parameters last changed"
            )
        backward_done = self.output_grads is not None
        rows = []
        l = 0
        for i, layer in enumerate(self.layers):
            if not layer.params:
                continue
            l += 1
            if set(layer.params) != {"W", "b"}:
                continue
            nxt = self.layers[i + 1] if i + 1 < len(self.layers) else None
            z = self.outputs[i + 1]
            a = self.outputs[i + 2] if nxt is not None and nxt.is_activation else z
            rows.append(LayerTrace(
                l, self.outputs[i], z, a,
                self.output_grads[i + 1] if backward_done else None,
                layer.grads["W"] if backward_done else None,
                layer.grads["b"] if backward_done else None,
            ))
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


# ---------------------------------------------------------------------- the contract, checked
def _where(layer, i):
    return f"layers[{i}], {layer!r},"


def _check_layer(layer, i, earlier):
    """Refuse what is not a layer, a layer used twice, or one without params/grads/decay."""
    if not isinstance(layer, Layer):
        raise TypeError(
            f"layers[{i}] must be a fcnn_lib Layer such as Dense(2, 3) or "
            f"Activation('tanh'), got {layer!r} ({type(layer).__name__})"
        )
    if any(other is layer for other in earlier):
        raise ValueError(
            f"{_where(layer, i)} is the same object as an earlier layer; a layer "
            f"keeps its own input for backward, so create a new one for each position"
        )
    for attr in ("params", "grads"):
        if not isinstance(getattr(layer, attr, None), dict):
            raise TypeError(
                f"{_where(layer, i)} has no {attr} dict: a new layer must call super().__init__() "
                f"in its __init__ (the Layer contract), got {attr} = {getattr(layer, attr, 'missing')!r}"
            )
    _check_decay(layer, i)


def _check_decay(layer, i):
    missing = [k for k in layer.decay if k not in layer.params]
    if missing:
        raise ValueError(
            f"{_where(layer, i)} names {missing} in decay, but its params are {sorted(layer.params)}: "
            f"decay must list names of its parameters (the weights weight decay applies to)"
        )


def _resolve_loss(loss):
    """(name, function) for a loss given by name or as a function (pred, y) → (value, grad)."""
    if isinstance(loss, str):
        return loss, lookup(loss, LOSSES, "loss")
    if callable(loss):
        return _LOSS_NAMES.get(loss, getattr(loss, "__name__", type(loss).__name__)), loss
    raise TypeError(f"loss must be a name such as 'mse' or a function loss(prediction, y) returning "
                    f"(value, gradient), got {loss!r} ({type(loss).__name__})")


def _check_last_layer(layer, i, loss_name):
    """Refuse a last layer whose declared output does not suit a library loss."""
    kind = layer.output_kind
    if loss_name in _LOGIT_LOSSES and kind in ("probabilities", "distributions"):
        f = _LOGIT_LOSSES[loss_name]
        raise ValueError(
            f"loss {loss_name!r} applies its own {f} to logits, but the last layer, "
            f"{_where(layer, i)[:-1]}, already outputs {kind}; end the network with the layer "
            f"before it (e.g. Dense), or use the plain cross-entropy on probabilities"
        )
    if loss_name in _PROBABILITY_LOSSES and kind == "real":
        raise ValueError(
            f"loss {loss_name!r} needs probabilities, but the last layer, {_where(layer, i)[:-1]}, "
            f"outputs real numbers; use {_PROBABILITY_LOSSES[loss_name]!r} on these logits, or end "
            f"the network with Activation("
            f"{'sigmoid' if loss_name == 'binary_cross_entropy' else 'softmax'!r})"
        )


def _check_output(layer, i, out, m):
    """The contract for forward: a float64 array with one row per example (m of them)."""
    if not isinstance(out, np.ndarray) or out.dtype != np.float64:
        raise TypeError(
            f"{_where(layer, i)} forward returned {type(out).__name__}"
            f"{' of dtype ' + str(out.dtype) if isinstance(out, np.ndarray) else ''}; the Layer "
            f"contract asks for a float64 numpy array, one example per row"
        )
    if out.ndim == 0 or out.shape[0] != m:
        raise ValueError(
            f"{_where(layer, i)} forward returned shape {out.shape} for a batch of {m} example(s); "
            f"the Layer contract asks for one row per example"
        )


def _raise_if_not_finite(layers, outputs):
    """Raise ValueError naming the first entry of ``outputs`` that is not finite, if any."""
    for k, arr in enumerate(outputs):
        if np.isfinite(arr).all():
            continue
        if k == 0:
            raise ValueError(f"input X (shape {arr.shape}) contains NaN or inf, {first_non_finite(arr)}")
        layer = layers[k - 1]
        hint = ""
        bad = [name for name, p in layer.params.items() if not np.isfinite(p).all()]
        if bad:
            hint = (f"; its parameter(s) {bad} hold NaN or inf (after a diverging update? "
                    f"try a smaller learning rate)")
        elif layer.params:
            largest = max(float(np.abs(p).max(initial=0.0)) for p in layer.params.values())
            hint = (f"; its parameters are finite, the largest in magnitude {largest:.3g}: the "
                    f"products overflowed float64 (training diverged? try a smaller learning rate)")
        raise ValueError(
            f"the output of {_where(layer, k - 1)[:-1]} (shape {arr.shape}) contains NaN or inf, "
            f"{first_non_finite(arr)}, although its input is finite{hint}"
        )


def _call_loss(loss, name, out, Y):
    """(value, gradient) of ``loss(out, Y)``, refused unless a finite-or-not number and an
    array of the output's shape (checks for a loss given as a function)."""
    result = loss(out, Y)
    try:
        value, grad = result
    except (TypeError, ValueError):
        raise TypeError(f"loss {name} must return a pair (value, gradient), e.g. fcnn_lib.Loss(value, grad); "
                        f"got {type(result).__name__}") from None
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"loss {name} must return a real number as its value, got {type(value).__name__}")
    if not isinstance(grad, np.ndarray) or grad.shape != out.shape:
        raise ValueError(f"loss {name} returned a gradient of shape {np.shape(grad)}, but the network's "
                         f"output has shape {out.shape}")
    return float(value), grad


def _check_input_grad(layer, i, g, shape, *, may_be_none):
    """The contract for backward's result: ∂J/∂(input), a float64 array of the input's shape."""
    if g is None:
        if may_be_none:
            return
        needed = f"layers[{i - 1}] needs it" if i > 0 else "∂J/∂X was asked for (input_grad=True)"
        raise ValueError(
            f"{_where(layer, i)} backward returned None, but {needed}; the Layer contract: backward "
            f"returns ∂J/∂(input), of the input's shape {shape}"
        )
    if not isinstance(g, np.ndarray) or g.dtype != np.float64:
        raise TypeError(
            f"{_where(layer, i)} backward returned {type(g).__name__}"
            f"{' of dtype ' + str(g.dtype) if isinstance(g, np.ndarray) else ''}; the Layer contract "
            f"asks for ∂J/∂(input) as a float64 numpy array of shape {shape}"
        )
    if g.shape != shape:
        raise ValueError(
            f"{_where(layer, i)} backward returned a gradient of shape {g.shape}, but the "
            f"layer's input had shape {shape}"
        )


def _check_param_grads(layer, i):
    """The contract for backward's gradients: grads[name] of params[name]'s shape, for every name."""
    params, grads = layer.params, layer.grads
    if not params:
        return
    if not isinstance(grads, dict) or grads.keys() != params.keys():
        have = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise ValueError(
            f"{_where(layer, i)} backward stored gradients {have} but its parameters are "
            f"{sorted(params)}; the Layer contract: backward stores grads[name] for every params[name]"
        )
    for k, p in params.items():
        gk = grads[k]
        if not isinstance(gk, np.ndarray) or gk.shape != p.shape:
            raise ValueError(
                f"{_where(layer, i)} grads[{k!r}] has shape {np.shape(gk)} but params[{k!r}] has "
                f"shape {np.shape(p)}; a gradient has its parameter's shape (nothing broadcasts: "
                f"e.g. sum over the batch axis)"
            )


# ---------------------------------------------------------------------- mlp
def mlp(sizes, *, activation="sigmoid", output="identity", loss="mse", init="xavier",
        rng=None, scale=0.01, slope=0.01):
    """Build a fully connected network: Dense layers with an activation after each.

    Parameters
    ----------
    sizes : list of int
        [n_0, n_1, ..., n_L]: input size, hidden sizes, output size.
    activation : str
        Hidden-layer activation (default ``"sigmoid"``), a name from
        :data:`fcnn_lib.activations.NAMES`.
    output : str
        Output activation (default ``"identity"``, which adds no layer, so
        a⁽ᴸ⁾ = z⁽ᴸ⁾; use it with the fused ``softmax_cross_entropy`` /
        ``sigmoid_cross_entropy`` losses).
    loss : str or callable
        As in :class:`Sequential` (default ``"mse"``). The categorical losses need
        n_L ≥ 2 classes.
    init : str
        Initialisation scheme of every Dense layer (default ``"xavier"``); see
        :mod:`fcnn_lib.init`. The layers draw from ``rng`` in order, W before b.
    rng : numpy.random.Generator, optional
        Required unless ``init="zeros"``.
    scale : float
        Standard deviation of the ``"normal"`` scheme (default 0.01).
    slope : float
        Negative-side slope of ``"leaky_relu"`` (default 0.01); another value is
        refused when no layer is ``"leaky_relu"``.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a list of layer sizes such as [2, 3, 1], got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    for i, n in enumerate(sizes):
        check_positive_int(n, f"sizes[{i}]")
    lookup(activation, dict.fromkeys(ACTIVATION_NAMES), "activation")
    lookup(output, dict.fromkeys(ACTIVATION_NAMES), "output activation")
    slope = check_slope(slope)
    used = [activation] * (len(sizes) > 2) + [output]
    if "leaky_relu" not in used and slope != DEFAULT_SLOPE:
        raise ValueError(f"slope={slope} applies to 'leaky_relu' only, but no layer is leaky_relu "
                         f"(activation={activation!r}, output={output!r})")
    name = loss if isinstance(loss, str) else _LOSS_NAMES.get(loss)
    if name in ("softmax_cross_entropy", "categorical_cross_entropy") and sizes[-1] < 2:
        raise ValueError(
            f"loss {name!r} needs at least 2 output units (one per class), got sizes[-1] = "
            f"{sizes[-1]}; for one output unit use 'sigmoid_cross_entropy' (or "
            f"'binary_cross_entropy' after a sigmoid)"
        )
    layers = []
    for l in range(1, len(sizes)):
        layers.append(Dense(sizes[l - 1], sizes[l], init=init, rng=rng, scale=scale))
        name_l = activation if l < len(sizes) - 1 else output
        if name_l != "identity" or l < len(sizes) - 1:
            layers.append(Activation(name_l, **({"slope": slope} if name_l == "leaky_relu" else {})))
    return Sequential(layers, loss=loss)
