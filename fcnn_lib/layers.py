"""Layers: the layer-wise view of backpropagation, and the contract every layer meets.

A network is a chain of layers. ``forward(x)`` maps the layer's input to its output
and keeps what ``backward`` needs. ``backward(grad_out)`` takes ∂J/∂(output) (the
sources' *out_diff*), stores the gradients of the layer's own parameters in ``grads``
and returns ∂J/∂(input) (*in_diff*). A batch holds one example per row (or per
leading index, for images). :class:`Layer` states the contract in full; a new layer
that meets it trains in :class:`~fcnn_lib.network.Sequential` like the built-in ones.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ._checks import as_float_array, check_pair, check_positive_int, lookup
from .activations import DEFAULT_SLOPE, ELEMENTWISE, NAMES, check_slope, softmax, softmax_vjp
from .conv import conv2d_backward, conv2d_forward, conv_output_shape, im2col
from .init import init_params


class Layer:
    """The layer contract: what :class:`~fcnn_lib.network.Sequential` relies on, and
    nothing more. Subclass it, call ``super().__init__()``, and define two methods:

    ``forward(x)``
        Return the layer's output for the input ``x`` (a float64 array, one example
        per row), as a float64 array with one row per example, and keep whatever
        ``backward`` will need, e.g. ``x`` itself.

    ``backward(grad_out)``
        ``grad_out`` is ∂J/∂(output), of the shape of the last output. Store
        ∂J/∂θ in ``grads[name]`` for every parameter θ = ``params[name]``, an array
        of θ's shape, and return ∂J/∂(input), of the shape of the last input.

    Three attributes, which this class sets up, are the rest of the contract:

    - ``params``: a dict from parameter name to float64 array (empty for a layer
      without parameters). These are the live arrays: the update changes them in
      place (θ −= η ∂J/∂θ) and gradient checks perturb them in place, so a layer may
      keep its own reference to one (``self.W = self.params["W"]``), but must not
      replace an array without putting the new one in ``params``;
    - ``grads``: the same names mapped to ∂J/∂θ from the last ``backward``;
    - ``decay``: the names of the parameters that L2 weight decay applies to
      (weights, never biases; none by default).

    Optional declarations, as class (or instance) attributes; the defaults promise nothing:

    - ``can_skip_input_grad = True``: ``backward`` also accepts ``input_grad=False``,
      and may then skip computing ∂J/∂(input) and return None. The network asks
      this of its first layer while training, where ∂J/∂X is never used.
    - ``is_activation = True``: the layer applies a fixed function a = f(z) to the
      output z of the layer before it; :meth:`~fcnn_lib.network.Sequential.trace`
      then reports its output as that layer's activation a⁽ˡ⁾.
    - ``output_kind``: what the output holds, for the network's check of the loss:
      ``"probabilities"`` (each entry in [0, 1]), ``"distributions"`` (also each row
      sums to 1) or ``"real"`` (any real numbers); None (the default) means not
      declared, and nothing is checked.

    The built-in layers check the type and shape of what they are given, not whether
    it holds NaN or inf (the functions they call, such as the activations, do check
    their input): the network scans its input X once, checks its output and its
    objective, and names the first layer whose output is not finite.

    A layer with parameters may also define ``initialize(scheme, rng, *, scale)`` and
    ``set_params(...)``, which ``Sequential.initialize`` and ``Sequential.set_params``
    call (:class:`WeightedLayer` provides both).
    """

    decay: tuple = ()
    can_skip_input_grad: bool = False
    is_activation: bool = False
    output_kind: str | None = None

    def __init__(self):
        self.params = {}
        self.grads = {}

    def forward(self, x):
        """Return the output for input ``x`` and keep what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, grad_out):
        """Store ∂J/∂θ in ``grads``; return ∂J/∂(input)."""
        raise NotImplementedError(f"{type(self).__name__} must define backward(grad_out)")

    def _check_input(self, x, ndim, size1, expected):
        """``x`` as a float64 array, refused unless it has ``ndim`` dimensions and
        ``size1`` entries along axis 1 (``expected`` describes the shape in words)."""
        x = as_float_array(x, lambda: f"input to {self!r}", finite=False)
        if x.ndim != ndim or x.shape[1] != size1:
            raise ValueError(f"{self!r} expects input of shape {expected}, got {x.shape}")
        return x

    def _check_grad_out(self, grad_out, out_shape):
        """``grad_out`` as a float64 array of the last output's shape ``out_shape``
        (None if there was no forward pass since the parameters last changed)."""
        if out_shape is None:
            raise RuntimeError(f"{self!r}: call forward before backward (no forward pass since "
                               f"the layer was built or its parameters were set)")
        grad_out = as_float_array(grad_out, lambda: f"gradient into {self!r}", finite=False)
        if grad_out.shape != tuple(out_shape):
            raise ValueError(
                f"{self!r}: gradient has shape {grad_out.shape} but the layer's "
                f"output had shape {tuple(out_shape)}"
            )
        return grad_out


class WeightedLayer(Layer):
    """A layer with weights ``W`` and biases ``b`` (:class:`Dense` and :class:`Conv2D`).

    Subclasses define ``weight_shape`` (W's shape; its first entry is the number of
    biases), ``fan_in`` and ``fan_out`` (inputs and outputs per unit, for the
    initialisation schemes), and keep their last input in ``_x``, which
    :meth:`initialize` and :meth:`set_params` clear (a backward pass after new
    parameters would mix the old input with the new weights). Weight decay applies to
    W only.
    """

    decay = ("W",)
    can_skip_input_grad = True
    output_kind = "real"
    _x = None

    @property
    def W(self):
        """The weights, of shape ``weight_shape``."""
        return self.params["W"]

    @property
    def b(self):
        """The biases, of shape (weight_shape[0],)."""
        return self.params["b"]

    def initialize(self, init, rng=None, *, scale=0.01):
        """(Re)draw W and b with scheme ``init`` (see :mod:`fcnn_lib.init`; ``"zeros"``
        needs no rng)."""
        W, b = init_params(init, self.weight_shape, rng, fan_in=self.fan_in,
                           fan_out=self.fan_out, scale=scale)
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self._x = None

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
        self._x = None


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
        Initialisation scheme (default ``"xavier"``; see :mod:`fcnn_lib.init`).
        ``"zeros"`` needs no rng.
    rng : numpy.random.Generator, optional
        Required for the random schemes.
    scale : float
        Standard deviation of the ``"normal"`` scheme (default 0.01).
    """

    def __init__(self, n_in, n_out, *, init="xavier", rng=None, scale=0.01):
        super().__init__()
        self.n_in = check_positive_int(n_in, "n_in (layer input size)")
        self.n_out = check_positive_int(n_out, "n_out (layer output size)")
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

    def forward(self, x):
        """Z = X Wᵀ + b for X of shape (m, n_in); returns (m, n_out) (``eq-forward-batch``)."""
        x = self._check_input(x, 2, self.n_in, f"(m, {self.n_in}) (one example per row)")
        self._x = x  # backward needs it for dW = Gᵀ X
        return x @ self.W.T + self.b

    def backward(self, grad_out, input_grad=True):
        """Store dW = Gᵀ X (n_out, n_in) and db = Σ_rows G (n_out,) for G = ∂J/∂Z of
        shape (m, n_out); return dX = G W (m, n_in), or None if not ``input_grad``
        (``eq-affine-grads-batch``; for a layer of a network, ``eq-bp-batch``)."""
        out_shape = None if self._x is None else (self._x.shape[0], self.n_out)
        G = self._check_grad_out(grad_out, out_shape)
        self.grads = {"W": G.T @ self._x, "b": G.sum(axis=0)}
        return G @ self.W if input_grad else None


class Conv2D(WeightedLayer):
    """2-D convolution layer (cross-correlation), computed as one matrix product.

    Letters as in chapter 7: input x of shape (m, C_in, n_h, n_w); kernels ``W`` of
    shape (C_out, C_in, k_h, k_w) and biases ``b`` of shape (C_out,); output Z of
    shape (m, C_out, n′_h, n′_w) with n′_h = (n_h + 2·p_h − k_h) // t_h + 1 (and
    likewise n′_w) for padding (p_h, p_w) and stride (t_h, t_w). Weight decay applies
    to ``W`` only. Forward is :func:`~fcnn_lib.conv.conv2d_forward` (``eq-conv``,
    computed as ``eq-im2col``) and backward :func:`~fcnn_lib.conv.conv2d_backward`
    (``eq-conv-backward``), both given the patch matrix ``im2col(x)`` that the layer
    keeps from its forward pass.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    kernel_size : int or (k_h, k_w)
    stride : int or (t_h, t_w)
        Default 1.
    padding : int or (p_h, p_w)
        Zeros added on each side; default 0.
    init : {"normal", "xavier", "he", "zeros"}
        Initialisation scheme (default ``"he"``), with fan_in = C_in·k_h·k_w and
        fan_out = C_out·k_h·k_w.
    rng : numpy.random.Generator, optional
        Required for the random schemes.
    scale : float
        Standard deviation of the ``"normal"`` scheme (default 0.01).
    """

    def __init__(self, c_in, c_out, kernel_size, *, stride=1, padding=0, init="he", rng=None,
                 scale=0.01):
        super().__init__()
        self.c_in = check_positive_int(c_in, "c_in (input channels)")
        self.c_out = check_positive_int(c_out, "c_out (output channels)")
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.stride = check_pair(stride, "stride")
        self.padding = check_pair(padding, "padding", allow_zero=True)
        self._cols = None  # the patch matrix im2col(x) of the last input, for dW = Gᵀ cols
        self.initialize(init, rng, scale=scale)

    def __repr__(self):
        def show(pair):
            return str(pair[0]) if pair[0] == pair[1] else str(pair)

        return (
            f"Conv2D({self.c_in}, {self.c_out}, kernel_size={show(self.kernel_size)}, "
            f"stride={show(self.stride)}, padding={show(self.padding)})"
        )

    @property
    def weight_shape(self):
        """(C_out, C_in, k_h, k_w)."""
        return (self.c_out, self.c_in, *self.kernel_size)

    def output_shape(self, x_shape):
        """Output shape (m, C_out, n′_h, n′_w) for an input of shape (m, C_in, n_h, n_w)."""
        n_h_out, n_w_out = conv_output_shape(x_shape, self.kernel_size, self.stride, self.padding)
        return (x_shape[0], self.c_out, n_h_out, n_w_out)

    @property
    def fan_in(self):
        """The number of inputs of one output unit, C_in·k_h·k_w."""
        return self.c_in * self.kernel_size[0] * self.kernel_size[1]

    @property
    def fan_out(self):
        """The number of outputs one input feeds, C_out·k_h·k_w."""
        return self.c_out * self.kernel_size[0] * self.kernel_size[1]

    def forward(self, x):
        """Z = conv(x, W) + b (``eq-conv``) for x of shape (m, C_in, n_h, n_w); returns
        (m, C_out, n′_h, n′_w)."""
        x = self._check_input(x, 4, self.c_in, f"(m, {self.c_in}, n_h, n_w) (C_in = {self.c_in} channels)")
        self._x = x
        self._cols = im2col(x, self.kernel_size, self.stride, self.padding)
        return conv2d_forward(x, self.W, self.b, self.stride, self.padding, cols=self._cols)

    def backward(self, grad_out, input_grad=True):
        """Store dW (C_out, C_in, k_h, k_w) and db (C_out,) for G = ∂J/∂Z of shape
        (m, C_out, n′_h, n′_w); return dx (m, C_in, n_h, n_w), or None if not
        ``input_grad``, by :func:`~fcnn_lib.conv.conv2d_backward` (``eq-conv-backward``)."""
        out_shape = None if self._x is None else self.output_shape(self._x.shape)
        G = self._check_grad_out(grad_out, out_shape)
        dx, dW, db = conv2d_backward(self._x, self.W, G, self.stride, self.padding,
                                     cols=self._cols, input_grad=input_grad)
        self.grads = {"W": dW, "b": db}
        return dx


class Activation(Layer):
    """A nonlinearity applied to the output of the layer before it: A = f(Z).

    Element-wise activations (sigmoid, tanh, relu, leaky_relu, identity) backpropagate
    with dZ = dA ⊙ f'(Z) (the ⊙ f'(z) factor of ``eq-bp2``), f' being the derivative
    defined in :mod:`fcnn_lib.activations`. Softmax acts on each row and
    backpropagates through its full Jacobian diag(p) − p pᵀ
    (``eq-softmax-jacobian``), by :func:`~fcnn_lib.activations.softmax_vjp`. Shapes:
    Z and A the same, (m, n) for softmax.

    The layer uses the functions of :mod:`fcnn_lib.activations` by name, with two
    special cases: ``"leaky_relu"`` passes ``slope`` to its pair (f, f'), and
    ``"softmax"`` has a Jacobian instead of an element-wise f'. To add an
    element-wise activation, define f and f' there and add the pair to
    :data:`~fcnn_lib.activations.ELEMENTWISE`; or write a new layer from the
    :class:`Layer` contract and declare ``is_activation = True``.

    Parameters
    ----------
    name : str
        One of :data:`fcnn_lib.activations.NAMES`.
    slope : float
        Negative-side slope for ``"leaky_relu"``, in [0, 1) (default 0.01); any other
        value is refused for the other activations, which have no slope.
    """

    can_skip_input_grad = True
    is_activation = True

    def __init__(self, name, *, slope=DEFAULT_SLOPE):
        super().__init__()
        lookup(name, dict.fromkeys(NAMES), "activation")
        slope = check_slope(slope)
        if name != "leaky_relu" and slope != DEFAULT_SLOPE:
            raise ValueError(f"slope={slope} applies to 'leaky_relu' only; Activation({name!r}) has no slope")
        self.name = name
        self.slope = slope
        self.output_kind = {"sigmoid": "probabilities", "softmax": "distributions"}.get(name, "real")
        self._z = None  # the last input, at which f' is evaluated
        if name == "softmax":
            self.f = softmax
        else:
            self.f, self.f_prime = ELEMENTWISE[name]
            if name == "leaky_relu":
                self.f, self.f_prime = partial(self.f, slope=slope), partial(self.f_prime, slope=slope)

    def __repr__(self):
        return f"Activation({self.name!r})"

    def forward(self, z):
        """A = f(Z), same shape as Z ((m, n) for softmax)."""
        z = as_float_array(z, lambda: f"input to {self!r}", finite=False)
        if self.name == "softmax" and z.ndim != 2:
            raise ValueError(f"{self!r} expects shape (m, n), got {z.shape}")
        self._z = z
        return self.f(z)

    def backward(self, grad_out, input_grad=True):
        """dZ = dA ⊙ f'(Z) (``eq-bp2``'s factor); for softmax dZ = p ⊙ (dA − Σ_k dA_k p_k)
        row by row with p = softmax(Z) (``eq-softmax-jacobian``). Shapes: those of Z.
        None if not ``input_grad`` (the layer has no parameters, so nothing else to do)."""
        G = self._check_grad_out(grad_out, None if self._z is None else self._z.shape)
        if not input_grad:
            return None
        if self.name == "softmax":
            return softmax_vjp(self._z, G)
        return G * self.f_prime(self._z)


class Flatten(Layer):
    """Reshape (m, C, n_h, n_w) (or any (m, …)) to (m, C·n_h·n_w), one example per row.

    Sits between convolution layers and a :class:`Dense` layer. Its backward
    reshapes the gradient back to the input's shape; it has no parameters.
    The order of the flattened entries is C-order: entry j·n_h·n_w + r·n_w + q of a
    row is x[:, j, r, q] (channel j, pixel row r, column q, as in chapter 7).
    """

    can_skip_input_grad = True

    def __init__(self):
        super().__init__()
        self._shape = None  # the last input's shape

    def __repr__(self):
        return "Flatten()"

    def forward(self, x):
        """(m, d₁, d₂, …) → (m, d₁·d₂·…)."""
        x = as_float_array(x, lambda: f"input to {self!r}", finite=False)
        if x.ndim < 2:
            raise ValueError(f"{self!r} expects input of shape (m, ...) with at least 2 "
                             f"dimensions, got {x.shape}")
        self._shape = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # the width given: m may be 0

    def backward(self, grad_out, input_grad=True):
        """The gradient (m, d₁·d₂·…) reshaped to the input's shape (m, d₁, d₂, …)."""
        out_shape = None if self._shape is None else (self._shape[0], math.prod(self._shape[1:]))
        G = self._check_grad_out(grad_out, out_shape)
        return G.reshape(self._shape) if input_grad else None
