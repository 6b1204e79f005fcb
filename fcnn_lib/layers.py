"""Layers with ``forward`` and ``backward``: the layer-wise view of backpropagation.

A network is a chain of layers. ``forward(x)`` maps the layer's input to its output
and remembers what ``backward`` needs. ``backward(grad_out)`` takes ∂J/∂(output)
(the sources' *out_diff*), stores the gradients of the layer's own parameters in
``grads`` and returns ∂J/∂(input) (*in_diff*). A batch holds one example per row.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_positive_int, lookup
from .activations import ELEMENTWISE, NAMES, softmax
from .init import init_bias, init_weights


class Layer:
    """Base class. Subclasses set ``params`` and ``grads`` (dicts of arrays).

    The public :meth:`forward` and :meth:`backward` check their argument (real,
    finite numbers of the right shape) and call the subclass's ``_forward`` and
    ``_backward``, which receive checked float64 arrays. :class:`~fcnn_lib.network.Sequential`
    checks the network's input once and then calls ``_forward`` and ``_backward``
    directly, so arrays the network computed itself are not scanned again.

    ``decay`` names the parameters that L2 weight decay applies to (weights, never
    biases).
    """

    params: dict
    grads: dict
    decay: tuple = ()

    def __init__(self):
        self.params = {}
        self.grads = {}
        self._out = None

    def forward(self, x):
        """Check ``x`` (real, finite numbers) and return the layer's output."""
        return self._forward(as_float_array(x, f"input to {self!r}"))

    def backward(self, grad_out):
        """Check ∂J/∂(output), store the parameter gradients, return ∂J/∂(input)."""
        return self._backward(self._check_grad_out(grad_out))

    def backward_params(self, grad_out):
        """Store the parameter gradients only, for a layer whose ∂J/∂(input) nobody needs.

        Used for the first layer during training (``Sequential.backward(...,
        input_grad=False)``); returns None.
        """
        self._backward_params(self._check_grad_out(grad_out))

    def _forward(self, x):  # pragma: no cover - interface
        raise NotImplementedError

    def _backward(self, g):  # pragma: no cover - interface
        raise NotImplementedError

    def _backward_params(self, g):
        # Default: the full backward, its input gradient dropped. Layers with
        # parameters override it to skip the input gradient.
        self._backward(g)

    def _check_grad_out(self, grad_out, *, scan=True):
        """Check a gradient against the last output's shape (and, if ``scan``, that it
        holds finite real numbers); returns it as a float64 array."""
        if scan:
            grad_out = as_float_array(grad_out, f"gradient into {self!r}")
        if self._out is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        if grad_out.shape != self._out.shape:
            raise ValueError(
                f"{self!r}: gradient has shape {grad_out.shape} but the layer's "
                f"output had shape {self._out.shape}"
            )
        return grad_out


class WeightedLayer(Layer):
    """A layer with weights ``W`` and biases ``b`` (:class:`Dense`, and the
    convolution layer of :mod:`fcnn_lib.conv`).

    Subclasses define ``weight_shape`` (W's shape; its first entry is the number of
    biases), ``fan_in`` and ``fan_out`` (inputs and outputs per unit, for the
    initialisation schemes). Weight decay applies to W only.
    """

    decay = ("W",)

    @property
    def W(self):
        """Weights, of shape ``weight_shape``."""
        return self.params["W"]

    @property
    def b(self):
        """Biases, shape (weight_shape[0],)."""
        return self.params["b"]

    def initialize(self, init, rng, *, scale=0.01):
        """(Re)draw W and b with scheme ``init`` (:mod:`fcnn_lib.init`); ``"zeros"`` sets
        both to zero and needs no rng."""
        shape = self.weight_shape
        if init == "zeros":
            W, b = np.zeros(shape), np.zeros(shape[0])
        else:
            W = init_weights(init, shape, rng, fan_in=self.fan_in, fan_out=self.fan_out, scale=scale)
            b = init_bias(init, shape[0], rng, scale=scale)
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}

    def set_params(self, W, b):
        """Set W (``weight_shape``) and b (``weight_shape[0]``,) explicitly, checking
        both shapes; the arrays are copied."""
        W = as_float_array(W, f"{self!r} W")
        b = as_float_array(b, f"{self!r} b")
        shape = self.weight_shape
        if W.shape != shape:
            raise ValueError(f"{self!r}: W must have shape {shape}, got {W.shape}")
        if b.shape != (shape[0],):
            raise ValueError(f"{self!r}: b must have shape {(shape[0],)}, got {b.shape}")
        self.params = {"W": W.copy(), "b": b.copy()}


class Dense(WeightedLayer):
    """Affine layer Z = X Wᵀ + b (book equations ``eq-forward`` and ``eq-forward-batch``).

    W has shape (n_out, n_in) as in the math (and PyTorch's Linear); b has shape
    (n_out,). Input X: (m, n_in); output Z: (m, n_out).

    Backward (book equations ``eq-bp3``, ``eq-bp4`` and ``eq-affine-grads-batch``),
    with G = ∂J/∂Z of shape (m, n_out)::

        dW = Gᵀ X        (n_out, n_in)   — the sum over the batch is the product
        db = Σ_rows G    (n_out,)
        dX = G W         (m, n_in)

    Parameters
    ----------
    n_in, n_out : int
        Positive layer sizes.
    init : {"normal", "xavier", "he", "zeros"}
        Initialisation scheme (see :mod:`fcnn_lib.init`). ``"zeros"`` needs no rng.
    rng : numpy.random.Generator, optional
        Required for the random schemes.
    scale : float
        Standard deviation of the ``"normal"`` scheme (default 0.01).
    """

    def __init__(self, n_in, n_out, *, init="xavier", rng=None, scale=0.01):
        super().__init__()
        self.n_in = check_positive_int(n_in, "n_in (layer input size)")
        self.n_out = check_positive_int(n_out, "n_out (layer output size)")
        self._x = None
        self.initialize(init, rng, scale=scale)

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out})"

    @property
    def weight_shape(self):
        """(n_out, n_in)."""
        return (self.n_out, self.n_in)

    @property
    def fan_in(self):
        """The number of inputs of one unit, n_in."""
        return self.n_in

    @property
    def fan_out(self):
        """The number of units one input feeds, n_out."""
        return self.n_out

    def _forward(self, x):
        """Z = X Wᵀ + b for X of shape (m, n_in); returns (m, n_out)."""
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(
                f"{self!r} expects input of shape (m, {self.n_in}) (one example per "
                f"row), got {x.shape}"
            )
        self._x = x
        out = x @ self.W.T
        out += self.b  # in place: the same sum as X Wᵀ + b without a second (m, n_out) array
        self._out = out
        return out

    def _backward(self, g):
        """Store dW = Gᵀ X, db = Σ_rows G; return dX = G W (shapes as in the class doc)."""
        self._backward_params(g)
        return g @ self.W

    def _backward_params(self, g):
        self.grads = {"W": g.T @ self._x, "b": g.sum(axis=0)}


class Activation(Layer):
    """A nonlinearity applied to the output of the layer before it: A = f(Z).

    Element-wise activations (sigmoid, tanh, relu, leaky_relu, identity) backpropagate
    with dZ = dA ⊙ f'(Z) (the ⊙ f'(z) factor of ``eq-bp2``). Softmax acts on each row
    and backpropagates through its full Jacobian diag(s) − s sᵀ (``eq-softmax-jacobian``),
    computed row by row as dZ = s ⊙ (dA − (dA·s)).

    Parameters
    ----------
    name : str
        One of :data:`fcnn_lib.activations.NAMES`.
    slope : float
        Negative-side slope for ``"leaky_relu"`` (default 0.01).
    """

    def __init__(self, name, *, slope=0.01):
        super().__init__()
        lookup(name, dict.fromkeys(NAMES), "activation")
        self.name = name
        self.slope = slope
        self._z = None
        if name == "leaky_relu":
            f, fp = (fn.unchecked for fn in ELEMENTWISE[name])
            self._f = lambda z: f(z, slope)
            self._fp = lambda z: fp(z, slope)
            self._f(np.zeros(1))  # validate the slope now
        elif name != "softmax":
            # The unchecked kernels: _forward receives arrays that are already checked.
            self._f, self._fp = (fn.unchecked for fn in ELEMENTWISE[name])

    def __repr__(self):
        return f"Activation({self.name!r})"

    def _forward(self, z):
        """A = f(Z), same shape as Z ((m, n) for softmax)."""
        if self.name == "softmax" and z.ndim != 2:
            raise ValueError(f"{self!r} expects shape (m, n), got {z.shape}")
        self._z = z
        self._out = softmax.unchecked(z) if self.name == "softmax" else self._f(z)
        return self._out

    def _backward(self, g):
        """dZ = dA ⊙ f'(Z); for softmax dZ = s ⊙ (dA − Σ_k dA_k s_k) row by row."""
        if self.name == "softmax":
            s = self._out
            return s * (g - np.sum(g * s, axis=1, keepdims=True))
        # Shortcuts with the same numbers, bit for bit, as g * f'(Z): σ' = σ(1 − σ) and
        # tanh' = 1 − tanh² from the stored output instead of recomputing f(Z), and
        # ReLU' as the boolean Z > 0 (multiplying by True/False is multiplying by 1.0/0.0).
        if self.name == "sigmoid":
            s = self._out
            return g * (s * (1.0 - s))
        if self.name == "tanh":
            t = self._out
            return g * (1.0 - t * t)
        if self.name == "relu":
            return g * (self._z > 0)
        return g * self._fp(self._z)
