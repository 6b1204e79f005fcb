"""Activation functions and their derivatives (book chapter 2).

Every function is element-wise except softmax, which acts on each row of a batch.
All take and return float64 arrays; shapes are preserved. Each derivative takes the
pre-activation ``z`` (not the activation), as in f'(z^{(l)}) of the δ recursion.
Inputs as large as ±1e4 give no overflow warning, NaN or inf.
"""

from __future__ import annotations

import numpy as np

import functools

from ._checks import as_float_array, lookup


def _checked(kernel):
    """Make the public function: check z (real, finite numbers), then run ``kernel``.

    The kernel stays reachable as ``.unchecked``, for layers whose input the network
    has already checked (see :class:`fcnn_lib.layers.Activation`).
    """

    @functools.wraps(kernel)
    def public(z, *args, **kwargs):
        return kernel(as_float_array(z, "z"), *args, **kwargs)

    public.unchecked = kernel
    return public


@_checked
def sigmoid(z):
    """Logistic sigmoid σ(z) = 1 / (1 + e^{-z}).

    Book equation ``eq-sigmoid`` (chapter 2). Shape: any → same shape.
    Computed from ``exp(-abs(z))`` so that it never overflows.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@_checked
def sigmoid_prime(z):
    """Derivative σ'(z) = σ(z)(1 − σ(z)).

    Book equation ``eq-sigmoid-prime`` (chapter 2). Shape: any → same shape.
    """
    s = sigmoid.unchecked(z)
    return s * (1.0 - s)


@_checked
def tanh(z):
    """Hyperbolic tangent (e^z − e^{-z}) / (e^z + e^{-z}).

    Book equation ``eq-tanh`` (chapter 2). Shape: any → same shape.
    """
    return np.tanh(z)


@_checked
def tanh_prime(z):
    """Derivative tanh'(z) = 1 − tanh(z)².

    Book equation ``eq-tanh-prime`` (chapter 2). Shape: any → same shape.
    """
    t = tanh.unchecked(z)
    return 1.0 - t * t


@_checked
def relu(z):
    """Rectified linear unit max(0, z).

    Book equation ``eq-relu`` (chapter 2). Shape: any → same shape.
    """
    out = np.maximum(z, 0.0)  # several times faster than np.where(z > 0, z, 0.0)
    out += 0.0  # turns any −0.0 into +0.0, so the result equals that where() bit for bit
    return out


@_checked
def relu_prime(z):
    """Derivative of ReLU: 1 where z > 0, else 0 (the value 0 is chosen at z = 0).

    Book equation ``eq-relu-prime`` (chapter 2). Shape: any → same shape.
    """
    return (z > 0).astype(np.float64)


def _check_slope(slope):
    if isinstance(slope, bool) or not isinstance(slope, (int, float, np.floating, np.integer)):
        raise TypeError(f"leaky ReLU slope must be a real number, got {slope!r}")
    if not (0.0 <= float(slope) < 1.0):
        raise ValueError(f"leaky ReLU slope must lie in [0, 1), got {slope}")
    return float(slope)


@_checked
def leaky_relu(z, slope=0.01):
    """Leaky ReLU: z where z > 0, else slope·z.

    Book equation ``eq-leaky-relu`` (chapter 2). Shape: any → same shape.

    Parameters
    ----------
    z : array_like
        Pre-activations.
    slope : float
        Slope for z ≤ 0, in [0, 1). ``slope=0`` is ReLU.
    """
    slope = _check_slope(slope)
    return np.where(z > 0, z, slope * z)


@_checked
def leaky_relu_prime(z, slope=0.01):
    """Derivative of leaky ReLU: 1 where z > 0, else slope.

    Book equation ``eq-leaky-relu-prime`` (chapter 2). Shape: any → same shape.
    """
    slope = _check_slope(slope)
    return np.where(z > 0, 1.0, slope)


@_checked
def identity(z):
    """The identity f(z) = z (a layer with no nonlinearity). Shape: any → same shape."""
    return z.copy()


@_checked
def identity_prime(z):
    """Derivative of the identity: ones. Shape: any → same shape."""
    return np.ones_like(z)


@_checked
def softmax(z):
    """Softmax of each row: s_i = e^{z_i} / Σ_j e^{z_j}.

    Book equation ``eq-softmax`` (chapter 2). Shape: (n,) → (n,) or (m, n) → (m, n);
    for a batch each row (one example) sums to 1. The row maximum is subtracted
    before exponentiating (the max-shift trick), which changes nothing
    mathematically and prevents overflow.
    """
    if z.ndim not in (1, 2):
        raise ValueError(f"softmax expects shape (n,) or (m, n), got {z.shape}")
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


@_checked
def softmax_jacobian(z):
    """Full Jacobian of softmax, ∂s_i/∂z_j = s_i(δ_ij − s_j), i.e. diag(s) − s sᵀ.

    Book equation ``eq-softmax-jacobian`` (chapter 2). Shape: (n,) → (n, n), or a
    batch (m, n) → (m, n, n) with one Jacobian per example. Its diagonal,
    s_i(1 − s_i), is what :func:`softmax_prime_diagonal` returns; backpropagation
    needs the whole matrix.
    """
    s = softmax.unchecked(z)
    eye = np.eye(s.shape[-1])
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]


@_checked
def softmax_prime_diagonal(z):
    """Only the diagonal of the softmax Jacobian, s_i(1 − s_i).

    This is the per-component "derivative" some texts state for softmax. It is
    not the derivative backpropagation needs (see :func:`softmax_jacobian`).
    Shape: (n,) → (n,) or (m, n) → (m, n).
    """
    s = softmax.unchecked(z)
    return s * (1.0 - s)


#: Element-wise activations by name: name → (f, f'). Softmax is separate
#: because its derivative is a full Jacobian, not an element-wise factor.
ELEMENTWISE = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "identity": (identity, identity_prime),
}

#: Every activation name a layer accepts.
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
