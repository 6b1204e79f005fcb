"""Layers: the layer-wise view of backpropagation, and the contract every layer meets.

A network is a chain of layers. ``forward(x)`` maps the layer's input to its output
and keeps what ``backward`` needs. ``backward(grad_out)`` takes ∂J/∂(output) (the
sources' *out_diff*), stores the gradients of the layer's own parameters in ``grads``
and returns ∂J/∂(input) (*in_diff*). A batch holds one example per row (or per
leading index, for images). :class:`Layer` states the contract in full; a new layer
that meets it trains in :class:`~fcnn_lib.network.Sequential` like the built-in ones.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ._checks import as_float_array, check_pair, check_positive_int, lookup
from .activations import ELEMENTWISE, NAMES, softmax, softmax_vjp
from .conv import conv2d_backward, conv2d_forward, conv_output_shape, im2col
from .init import init_params


class Layer:
    """The layer contract: what :class:`~fcnn_lib.network.Sequential` relies on, and
    nothing more. Subclass it, call ``super().__init__()``, and define two methods:

    ``forward(x)``
        Return the layer's output for the input ``x`` (a float64 array, one example
        per row), and keep whatever ``backward`` will need, e.g. ``x`` itself.

    ``backward(grad_out, input_grad=True)``
        ``grad_out`` is ∂J/∂(output), of the shape of the last output. Store
        ∂J/∂θ in ``grads[name]`` for every parameter θ = ``params[name]``, and
        return ∂J/∂(input), of the shape of the last input. With
        ``input_grad=False`` the caller will not use ∂J/∂(input): the layer may skip
        computing it and return None (the network asks this of its first layer while
        training, where ∂J/∂X is never used).

    The network reads three attributes, which this class sets up: ``params``, a dict
    from parameter name to array (empty for a layer without parameters; these are
    the live arrays, which the update replaces and gradient checks perturb in
    place); ``grads``, the same names mapped to ∂J/∂θ from the last ``backward``;
    and ``decay``, the names of the parameters that L2 weight decay applies to
    (weights, never biases; none by default).

    A layer with parameters may also define ``initialize(scheme, rng, *, scale)`` and
    ``set_params(...)``, which ``Sequential.initialize`` and ``Sequential.set_params``
    call (:class:`WeightedLayer` provides both).
    """

    decay: tuple = ()

    def __init__(self):
        self.params = {}
        self.grads = {}

    def forward(self, x):
        """Return the output for input ``x`` and keep what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, grad_out, input_grad=True):
        """Store ∂J/∂θ in ``grads``; return ∂J/∂(input) (or None if not ``input_grad``)."""
        raise NotImplementedError(f"{type(self).__name__} must define backward(grad_out, input_grad=True)")

    def _check_input(self, x, ndim, size1, expected):
        """``x`` as a float64 array, refused unless it has ``ndim`` dimensions and
        ``size1`` entries along axis 1 (``expected`` describes the shape in words)."""
        x = as_float_array(x, lambda: f"input to {self!r}")
        if x.ndim != ndim or x.shape[1] != size1:
            raise ValueError(f"{self!r} expects input of shape {expected}, got {x.shape}")
        return x

    def _check_grad_out(self, grad_out, out_shape):
        """``grad_out`` as a float64 array of the last output's shape ``out_shape``
        (None if there was no forward pass yet)."""
        if out_shape is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        grad_out = as_float_array(grad_out, lambda: f"gradient into {self!r}")
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
    initialisation schemes). Weight decay applies to W only.
    """

    decay = ("W",)

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
        self._x = None  # the last input X, which backward needs for dW = Gᵀ X
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
        """Z = X Wᵀ + b for X of shape (m, n_in); returns (m, n_out)."""
        x = self._check_input(x, 2, self.n_in, f"(m, {self.n_in}) (one example per row)")
        self._x = x
        return x @ self.W.T + self.b

    def backward(self, grad_out, input_grad=True):
        """Store dW = Gᵀ X and db = Σ_rows G; return dX = G W (shapes as in the class doc)."""
        out_shape = None if self._x is None else (self._x.shape[0], self.n_out)
        G = self._check_grad_out(grad_out, out_shape)
        self.grads = {"W": G.T @ self._x, "b": G.sum(axis=0)}
        return G @ self.W if input_grad else None


class Conv2D(WeightedLayer):
    """2-D convolution layer (cross-correlation), computed as one matrix product.

    Input x: (m, C_in, H, W); output Z: (m, C_out, H_out, W_out) with
    H_out = (H + 2·pad_h − kh) // stride_h + 1 (and likewise W_out). Parameters
    ``W`` of shape (C_out, C_in, kh, kw) and ``b`` of shape (C_out,); weight decay
    applies to ``W`` only. Forward is :func:`~fcnn_lib.conv.conv2d_forward`
    (``eq-im2col``) and backward :func:`~fcnn_lib.conv.conv2d_backward`
    (``eq-conv-backward``), both given the patch matrix ``im2col(x)`` that the
    layer keeps from its forward pass.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    kernel_size : int or (kh, kw)
    stride : int or (h, w)
        Default 1.
    padding : int or (h, w)
        Zeros added on each side; default 0.
    init : {"normal", "xavier", "he", "zeros"}
        Initialisation scheme (default ``"he"``), with fan_in = C_in·kh·kw and
        fan_out = C_out·kh·kw.
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
        self._x = None     # the last input
        self._cols = None  # its patch matrix im2col(x), for dW = Gᵀ cols
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
        """(C_out, C_in, kh, kw)."""
        return (self.c_out, self.c_in, *self.kernel_size)

    def output_shape(self, x_shape):
        """Output shape (m, C_out, H_out, W_out) for an input of shape (m, C_in, H, W)."""
        Ho, Wo = conv_output_shape(x_shape, self.kernel_size, self.stride, self.padding)
        return (x_shape[0], self.c_out, Ho, Wo)

    @property
    def fan_in(self):
        """The number of inputs of one output unit, C_in·kh·kw."""
        return self.c_in * self.kernel_size[0] * self.kernel_size[1]

    @property
    def fan_out(self):
        """The number of outputs one input feeds, C_out·kh·kw."""
        return self.c_out * self.kernel_size[0] * self.kernel_size[1]

    def forward(self, x):
        """Z = conv(x, W) + b for x of shape (m, C_in, H, W); returns (m, C_out, H_out, W_out)."""
        x = self._check_input(x, 4, self.c_in, f"(m, {self.c_in}, H, W) (C_in = {self.c_in} channels)")
        self._x = x
        self._cols = im2col(x, self.kernel_size, self.stride, self.padding)
        return conv2d_forward(x, self.W, self.b, self.stride, self.padding, cols=self._cols)

    def backward(self, grad_out, input_grad=True):
        """Store dW and db; return dx (None if not ``input_grad``), by
        :func:`~fcnn_lib.conv.conv2d_backward`."""
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
    backpropagates through its full Jacobian diag(s) − s sᵀ
    (``eq-softmax-jacobian``), by :func:`~fcnn_lib.activations.softmax_vjp`.

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
        self._z = None  # the last input, at which f' is evaluated
        if name == "softmax":
            self.f = softmax
        else:
            self.f, self.f_prime = ELEMENTWISE[name]
            if name == "leaky_relu":
                self.f, self.f_prime = partial(self.f, slope=slope), partial(self.f_prime, slope=slope)
                self.f(np.zeros(1))  # refuses a bad slope now, not at the first forward pass

    def __repr__(self):
        return f"Activation({self.name!r})"

    def forward(self, z):
        """A = f(Z), same shape as Z ((m, n) for softmax)."""
        z = as_float_array(z, lambda: f"input to {self!r}")
        if self.name == "softmax" and z.ndim != 2:
            raise ValueError(f"{self!r} expects shape (m, n), got {z.shape}")
        self._z = z
        return self.f(z)

    def backward(self, grad_out, input_grad=True):
        """dZ = dA ⊙ f'(Z); for softmax dZ = s ⊙ (dA − Σ_k dA_k s_k) row by row."""
        G = self._check_grad_out(grad_out, None if self._z is None else self._z.shape)
        if not input_grad:  # no parameters: nothing else to compute
            return None
        if self.name == "softmax":
            return softmax_vjp(self._z, G)
        return G * self.f_prime(self._z)


class Flatten(Layer):
    """Reshape (m, C, H, W) (or any (m, …)) to (m, C·H·W), one example per row.

    Sits between convolution layers and a :class:`Dense` layer. Its backward
    reshapes the gradient back to the input's shape; it has no parameters.
    The order of the flattened entries is C-order: entry c·H·W + r·W + s is x[:, c, r, s].
    """

    def __init__(self):
        super().__init__()
        self._shape = None  # the last input's shape

    def __repr__(self):
        return "Flatten()"

    def forward(self, x):
        """(m, d₁, d₂, …) → (m, d₁·d₂·…)."""
        x = as_float_array(x, lambda: f"input to {self!r}")
        if x.ndim < 2:
            raise ValueError(f"{self!r} expects input of shape (m, ...) with at least 2 "
                             f"dimensions, got {x.shape}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out, input_grad=True):
        """The gradient reshaped to the input's shape."""
        out_shape = None if self._shape is None else (self._shape[0], int(np.prod(self._shape[1:])))
        G = self._check_grad_out(grad_out, out_shape)
        return G.reshape(self._shape) if input_grad else None
