"""Activation functions and their derivatives (book chapter 2).

Every function is element-wise except softmax, which acts on each row of a batch.
All take and return float64 arrays; shapes are preserved. Each derivative takes the
pre-activation ``z`` (not the activation), as in f'(z^{(l)}) of the δ recursion.
Inputs as large as ±1e4 give no overflow warning, NaN or inf.

This module is the one place where each derivative is written down: the activation
layer (:class:`fcnn_lib.layers.Activation`) calls these functions.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_same_shape, lookup


def sigmoid(z):
    """Logistic sigmoid σ(z) = 1 / (1 + e^{-z}).

    Book equation ``eq-sigmoid`` (chapter 2). Shape: any → same shape.
    Computed from ``exp(-abs(z))`` so that it never overflows.
    """
    z = as_float_array(z, "z")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    """Derivative σ'(z) = σ(z)(1 − σ(z)).

    Book equation ``eq-sigmoid-prime`` (chapter 2). Shape: any → same shape.
    Computed from σ(z) as written (as PyTorch's sigmoid backward does), so its error
    is round-off relative to σ' ≤ 1/4, not to σ'(z) itself: in the far tails, where
    σ'(z) < 2⁻⁵³, the value can be 0 or off by far more than its own size (chapter 2).
    """
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Hyperbolic tangent (e^z − e^{-z}) / (e^z + e^{-z}).

    Book equation ``eq-tanh`` (chapter 2). Shape: any → same shape.
    """
    return np.tanh(as_float_array(z, "z"))


def tanh_prime(z):
    """Derivative tanh'(z) = 1 − tanh(z)².

    Book equation ``eq-tanh-prime`` (chapter 2). Shape: any → same shape.
    Computed from tanh(z) as written (as PyTorch's tanh backward does), so its error
    is round-off relative to tanh' ≤ 1, not to tanh'(z) itself: once z is above about
    19 in absolute value, the value is 0 where the true one is below 10⁻¹⁶. The scalar engine of chapter 3
    (:class:`fcnn_lib.engine.Value`) computes it without this cancellation.
    """
    t = tanh(z)
    return 1.0 - t * t


def relu(z):
    """Rectified linear unit max(0, z).

    Book equation ``eq-relu`` (chapter 2). Shape: any → same shape. Where z = −0.0
    the result is +0.0 (``np.maximum`` returns its second argument on a tie).
    """
    return np.maximum(as_float_array(z, "z"), 0.0)


def relu_prime(z):
    """Derivative of ReLU: 1 where z > 0, else 0 (the value 0 is chosen at z = 0).

    Book equation ``eq-relu-prime`` (chapter 2). Shape: any → same shape.
    """
    return (as_float_array(z, "z") > 0).astype(np.float64)


#: The default negative-side slope of leaky ReLU.
DEFAULT_SLOPE = 0.01


def check_slope(slope):
    """``slope`` as a float, refused unless a real number in [0, 1) (TypeError, ValueError)."""
    if isinstance(slope, bool) or not isinstance(slope, (int, float, np.floating, np.integer)):
        raise TypeError(f"leaky ReLU slope must be a real number, got {slope!r}")
    if not (0.0 <= float(slope) < 1.0):
        raise ValueError(f"leaky ReLU slope must lie in [0, 1), got {slope}")
    return float(slope)


def leaky_relu(z, slope=DEFAULT_SLOPE):
    """Leaky ReLU: z where z > 0, else slope·z.

    Book equation ``eq-leaky-relu`` (chapter 2). Shape: any → same shape.

    Parameters
    ----------
    z : array_like
        Pre-activations.
    slope : float
        Slope for z ≤ 0, in [0, 1). ``slope=0`` is ReLU.
    """
    z, slope = as_float_array(z, "z"), check_slope(slope)
    return np.where(z > 0, z, slope * z)


def leaky_relu_prime(z, slope=DEFAULT_SLOPE):
    """Derivative of leaky ReLU: 1 where z > 0, else slope.

    Book equation ``eq-leaky-relu-prime`` (chapter 2). Shape: any → same shape.
    """
    z, slope = as_float_array(z, "z"), check_slope(slope)
    return np.where(z > 0, 1.0, slope)


def identity(z):
    """The identity f(z) = z (a layer with no nonlinearity). Shape: any → same shape."""
    return as_float_array(z, "z").copy()


def identity_prime(z):
    """Derivative of the identity: ones. Shape: any → same shape."""
    return np.ones_like(as_float_array(z, "z"))


def softmax(z):
    """Softmax of each row: p_k = e^{z_k} / Σ_{k′} e^{z_{k′}}.

    Book equation ``eq-softmax`` (chapter 2). Shape: (n,) → (n,) or (m, n) → (m, n);
    for a batch each row (one example) sums to 1. The row maximum is subtracted
    before exponentiating (the max-shift trick), which changes nothing
    mathematically and prevents overflow.
    """
    z = as_float_array(z, "z")
    if z.ndim not in (1, 2) or z.shape[-1] == 0:
        raise ValueError(f"softmax expects shape (n,) or (m, n) with n >= 1, got {z.shape}")
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(z):
    """Full Jacobian of softmax, ∂p_i/∂z_j = p_i([i = j] − p_j), i.e. diag(p) − p pᵀ,
    with p = softmax(z) and [i = j] equal to 1 if i = j and 0 otherwise.

    Book equation ``eq-softmax-jacobian`` (chapter 2). Shape: (n,) → (n, n), or a
    batch (m, n) → (m, n, n) with one Jacobian per example. Its diagonal,
    p_i(1 − p_i), is what :func:`softmax_prime_diagonal` returns; backpropagation
    needs the whole matrix (see :func:`softmax_vjp`).
    """
    p = softmax(z)
    eye = np.eye(p.shape[-1])
    return p[..., :, None] * eye - p[..., :, None] * p[..., None, :]


def softmax_vjp(z, g):
    """The gradient through softmax: g times its Jacobian, p ⊙ (g − (g · p)) row by row.

    With p = softmax(z) and g = ∂J/∂p, the chain rule gives ∂J/∂z = Jᵀ g with J the
    Jacobian diag(p) − p pᵀ of :func:`softmax_jacobian` (book equation
    ``eq-softmax-jacobian``; symmetric, so Jᵀ g = J g), that is
    ∂J/∂z_j = p_j (g_j − Σ_k g_k p_k): one product per row instead of an n × n matrix
    per example. Shapes: z and g both (n,) or both (m, n); the result has the same
    shape.
    """
    p = softmax(z)
    g = as_float_array(g, "gradient g")
    check_same_shape(p, g, "z", "gradient g")
    return p * (g - np.sum(g * p, axis=-1, keepdims=True))


def softmax_prime_diagonal(z):
    """Only the diagonal of the softmax Jacobian, p_i(1 − p_i) with p = softmax(z).

    This is the per-component "derivative" some texts state for softmax. It is
    not the derivative backpropagation needs (see :func:`softmax_jacobian`).
    Shape: (n,) → (n,) or (m, n) → (m, n).
    """
    p = softmax(z)
    return p * (1.0 - p)


#: The element-wise activations, each name mapped to the pair (f, f').
#: Softmax is not here, because its derivative is a full Jacobian, not an
#: element-wise factor.
ELEMENTWISE = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "identity": (identity, identity_prime),
}

#: Every activation name that an activation layer accepts.
NAMES = tuple(sorted([*ELEMENTWISE, "softmax"]))


def get_activation(name):
    """Return ``(f, f_prime)`` for an element-wise activation name.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or for
        ``"softmax"``, whose derivative is a Jacobian (use :func:`softmax_jacobian`).
    """
    if name == "softmax":
        raise ValueError(
            "softmax is not element-wise: its derivative is the Jacobian "
            "softmax_jacobian(z), not a function f'(z) of the same shape"
        )
    return lookup(name, ELEMENTWISE, "activation")
