"""Convolution as one matrix product: im2col, col2im and the Conv2D layer (book chapter 7).

Shapes (NCHW, one example per leading index, as a dense batch has one example per row):

- input ``x``: (m, C_in, H, W);
- kernels ``W``: (C_out, C_in, kh, kw) (as PyTorch's Conv2d); biases ``b``: (C_out,);
- output ``Z``: (m, C_out, H_out, W_out) with H_out = (H + 2·pad_h − kh) // stride_h + 1
  and likewise W_out.

"Convolution" means what deep learning means by it, a cross-correlation (book
equation ``eq-conv``): with x̃ the input padded with zeros,

    Z[n, k, i, j] = b[k] + Σ_{c, p, q} W[k, c, p, q] · x̃[n, c, i·s_h + p, j·s_w + q].

A true convolution flips the kernel (uses W[k, c, kh−1−p, kw−1−q]); for learned
kernels the two differ only by how the learned numbers are stored.

**The patch matrix** (``im2col``, book equation ``eq-im2col``). Every output position
(n, i, j) reads one patch x̃[n, :, i·s_h : i·s_h + kh, j·s_w : j·s_w + kw]. ``im2col``
stores each patch as one row::

    cols : (m·H_out·W_out, C_in·kh·kw)
    row    n·H_out·W_out + i·W_out + j      (example n, output position (i, j))
    column c·kh·kw + p·kw + q               (channel c, kernel offset (p, q))

The column order is that of ``W.reshape(C_out, -1)``, so the whole convolution is
one matrix product, the dense layer's Z = X Wᵀ + b with patches in place of examples::

    Z_mat = cols @ W.reshape(C_out, -1).T + b     (m·H_out·W_out, C_out)
    Z     = Z_mat.reshape(m, H_out, W_out, C_out).transpose(0, 3, 1, 2)

**Backward** (book equation ``eq-conv-backward``, the dimension-compatibility rule
applied to that product), with G = ∂J/∂Z brought to the layout of Z_mat,
(m·H_out·W_out, C_out)::

    dW    = (Gᵀ cols).reshape(W.shape)      (C_out, C_in, kh, kw)
    db    = Σ_rows G                        (C_out,)
    dcols = G W_mat                         (m·H_out·W_out, C_in·kh·kw)
    dx    = col2im(dcols, x.shape, ...)     (m, C_in, H, W)

``col2im`` is the adjoint (transpose) of ``im2col``: it sends every entry of a row
back to the input pixel it was copied from and *adds* the entries that land on the
same pixel, because overlapping patches copy a pixel several times and each copy
contributes to the gradient.

``kernel_size``, ``stride`` and ``padding`` are each an int or an (h, w) pair.
Bad input raises ValueError (or TypeError for non-integers) naming the sizes: a
kernel larger than the padded input, a stride ≤ 0 (a positive stride always leaves
at least one output once the kernel fits), negative padding, a channel mismatch
between ``x`` and ``W``, or arrays with the wrong number of dimensions.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_positive_int
from .layers import Layer, WeightedLayer

__all__ = [
    "conv_output_shape",
    "im2col",
    "col2im",
    "conv2d_forward_loop",
    "conv2d_backward_loop",
    "conv2d_forward_fft",
    "conv2d_forward",
    "conv2d_backward",
    "Conv2D",
    "Flatten",
]


# ---------------------------------------------------------------------- checks
def _pair(value, name, *, allow_zero=False):
    """An int or an (h, w) pair of ints → (h, w); positive (or ≥ 0 with allow_zero)."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an int or an (h, w) pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if allow_zero and min(pair) < 0:
        raise ValueError(f"{name} must be >= 0, got {pair[0]}×{pair[1]} (h×w)")
    if not allow_zero and min(pair) <= 0:
        raise ValueError(f"{name} must be positive, got {pair[0]}×{pair[1]} (h×w)")
    return pair


def _geometry(x_shape, kernel_size, stride, padding):
    """Check the sizes; return (kh, kw), (sh, sw), (ph, pw), (H_out, W_out)."""
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding", allow_zero=True)
    if len(x_shape) != 4:
        raise ValueError(
            f"convolution input must have shape (m, C_in, H, W) (4 dimensions), got "
            f"shape {tuple(x_shape)} ({len(x_shape)} dimension(s))"
        )
    H, W = x_shape[2], x_shape[3]
    Hp, Wp = H + 2 * ph, W + 2 * pw
    if kh > Hp or kw > Wp:
        raise ValueError(
            f"kernel {kh}×{kw} is larger than the padded input {Hp}×{Wp} "
            f"(input {H}×{W}, padding {ph}×{pw})"
        )
    return (kh, kw), (sh, sw), (ph, pw), ((Hp - kh) // sh + 1, (Wp - kw) // sw + 1)


def conv_output_shape(x_shape, kernel_size, stride=1, padding=0):
    """(H_out, W_out) = ((H + 2·pad_h − kh) // stride_h + 1, (W + 2·pad_w − kw) // stride_w + 1).

    ``x_shape`` is the input's shape (m, C_in, H, W). Raises ValueError if the kernel
    is larger than the padded input, the stride is not positive or the padding is
    negative.
    """
    return _geometry(tuple(x_shape), kernel_size, stride, padding)[3]


def _check_x(x):
    x = as_float_array(x, "convolution input x")
    if x.ndim != 4:
        raise ValueError(
            f"convolution input x must have shape (m, C_in, H, W) (4 dimensions), got "
            f"shape {x.shape} ({x.ndim} dimension(s))"
        )
    return x


def _check_conv_args(x, W, b=None):
    x = _check_x(x)
    W = as_float_array(W, "kernels W")
    if W.ndim != 4:
        raise ValueError(
            f"kernels W must have shape (C_out, C_in, kh, kw) (4 dimensions), got shape "
            f"{W.shape} ({W.ndim} dimension(s))"
        )
    if x.shape[1] != W.shape[1]:
        raise ValueError(
            f"x has C_in = {x.shape[1]} channel(s) (shape {x.shape}) but W expects "
            f"C_in = {W.shape[1]} (shape {W.shape})"
        )
    if b is not None:
        b = as_float_array(b, "biases b")
        if b.shape != (W.shape[0],):
            raise ValueError(
                f"biases b must have shape (C_out,) = ({W.shape[0]},) for W of shape "
                f"{W.shape}, got {b.shape}"
            )
    return x, W, b


def _pad(x, padding):
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


# ---------------------------------------------------------------------- im2col / col2im
def im2col(x, kernel_size, stride=1, padding=0):
    """The patch matrix of ``x``: one row per output position, one column per weight.

    Parameters
    ----------
    x : array of shape (m, C_in, H, W)
    kernel_size, stride, padding : int or (h, w) pair

    Returns
    -------
    array of shape (m·H_out·W_out, C_in·kh·kw)
        Row n·H_out·W_out + i·W_out + j holds the (zero-padded) patch that output
        position (i, j) of example n reads, flattened in the order (c, p, q), i.e.
        entry c·kh·kw + p·kw + q is x̃[n, c, i·s_h + p, j·s_w + q]. With
        ``W_mat = W.reshape(C_out, -1)`` the convolution is ``cols @ W_mat.T + b``
        (book equation ``eq-im2col``).

    Notes
    -----
    Vectorised with ``numpy.lib.stride_tricks.sliding_window_view``: a strided
    view of every window, then one copy into the row layout.
    """
    x = _check_x(x)
    (kh, kw), (sh, sw), pad, (Ho, Wo) = _geometry(x.shape, kernel_size, stride, padding)
    m, C = x.shape[:2]
    xp = _pad(x, pad)
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, : (Ho - 1) * sh + 1 : sh, : (Wo - 1) * sw + 1 : sw]  # (m, C, Ho, Wo, kh, kw)
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(m * Ho * Wo, C * kh * kw)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """The adjoint of :func:`im2col`: scatter each row back onto its patch, ADDING overlaps.

    Parameters
    ----------
    cols : array of shape (m·H_out·W_out, C_in·kh·kw)
        In the layout of :func:`im2col` (e.g. ∂J/∂cols).
    x_shape : tuple (m, C_in, H, W)
        Shape of the input that ``im2col`` was applied to.
    kernel_size, stride, padding : int or (h, w) pair
        As given to ``im2col``.

    Returns
    -------
    array of shape (m, C_in, H, W)
        Entry x[n, c, r, s] is the sum of every entry of ``cols`` that ``im2col``
        copied from that pixel; padding positions are dropped. So
        ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ for all x and y, which is why col2im of
        ∂J/∂cols is ∂J/∂x.

    Notes
    -----
    One slice-add per kernel offset (p, q): kh·kw vectorised additions, no loop over
    examples or output positions.
    """
    x_shape = tuple(int(s) for s in x_shape)
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = _geometry(x_shape, kernel_size, stride, padding)
    m, C, H, W = x_shape
    cols = as_float_array(cols, "patch matrix cols")
    want = (m * Ho * Wo, C * kh * kw)
    if cols.shape != want:
        raise ValueError(
            f"patch matrix must have shape (m·H_out·W_out, C_in·kh·kw) = {want} for input "
            f"{x_shape} and kernel {kh}×{kw}, got {cols.shape}"
        )
    # (m, C, kh, kw, Ho, Wo), made contiguous once so that each slice-add below reads
    # memory in order (about twice as fast as adding from the strided view).
    patches = np.ascontiguousarray(cols.reshape(m, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2))
    xp = np.zeros((m, C, H + 2 * ph, W + 2 * pw))
    for p in range(kh):
        for q in range(kw):
            xp[:, :, p : p + (Ho - 1) * sh + 1 : sh, q : q + (Wo - 1) * sw + 1 : sw] += patches[:, :, p, q]
    return xp[:, :, ph : ph + H, pw : pw + W].copy()


# ---------------------------------------------------------------------- forward and backward
def conv2d_forward_loop(x, W, b, stride=1, padding=0):
    """Reference convolution: book equation ``eq-conv`` written as plain Python loops.

    One output number at a time: for every example n, kernel k and output position
    (i, j), Z[n, k, i, j] = b[k] + Σ_{c,p,q} W[k, c, p, q] · x̃[n, c, i·s_h + p, j·s_w + q],
    the sum taken with ``numpy.sum`` over the patch. Written for clarity, not
    speed: it runs m·C_out·H_out·W_out Python iterations.

    Parameters
    ----------
    x : array of shape (m, C_in, H, W)
    W : array of shape (C_out, C_in, kh, kw)
    b : array of shape (C_out,)
    stride, padding : int or (h, w) pair

    Returns
    -------
    array of shape (m, C_out, H_out, W_out)
    """
    x, W, b = _check_conv_args(x, W, b)
    (kh, kw), (sh, sw), pad, (Ho, Wo) = _geometry(x.shape, W.shape[2:], stride, padding)
    xp = _pad(x, pad)
    m, C_out = x.shape[0], W.shape[0]
    Z = np.zeros((m, C_out, Ho, Wo))
    for n in range(m):
        for k in range(C_out):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (C_in, kh, kw)
                    Z[n, k, i, j] = b[k] + np.sum(W[k] * patch)
    return Z


def conv2d_backward_loop(x, W, grad_out, stride=1, padding=0):
    """Reference gradients: the chain rule applied to one output number at a time.

    Output Z[n, k, i, j] = b[k] + Σ W[k] ⊙ patch depends on b[k] with slope 1, on
    W[k] with slope ``patch`` and on the patch with slope W[k]; so, with
    g = G[n, k, i, j] = ∂J/∂Z[n, k, i, j], it adds g to db[k], g·patch to dW[k] and
    g·W[k] to the gradient of the patch's pixels. Patches overlap, so a pixel
    collects (adds) the contributions of every output that read it.

    Parameters
    ----------
    x : array of shape (m, C_in, H, W)
        The forward input.
    W : array of shape (C_out, C_in, kh, kw)
    grad_out : array of shape (m, C_out, H_out, W_out)
        G = ∂J/∂Z.
    stride, padding : int or (h, w) pair

    Returns
    -------
    (dx, dW, db) : arrays of shapes (m, C_in, H, W), (C_out, C_in, kh, kw), (C_out,)
    """
    x, W, _ = _check_conv_args(x, W)
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = _geometry(x.shape, W.shape[2:], stride, padding)
    m, C_out = x.shape[0], W.shape[0]
    G = _check_grad(grad_out, (m, C_out, Ho, Wo))
    xp = _pad(x, (ph, pw))
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    db = np.zeros(C_out)
    for n in range(m):
        for k in range(C_out):
            for i in range(Ho):
                for j in range(Wo):
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    g = G[n, k, i, j]
                    db[k] += g
                    dW[k] += g * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += g * W[k]
    return dxp[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]].copy(), dW, db


def conv2d_forward_fft(x, W, b, stride=1, padding=0):
    """Convolution through the FFT: full cross-correlation, then crop and stride.

    Each channel of the padded input and each kernel flipped by 180° are zero-padded
    to (H̃ + kh − 1) × (W̃ + kw − 1) and transformed with ``numpy.fft.rfft2``;
    the product of the transforms, summed over input channels, is the transform of
    the full (linear) convolution with the flipped kernel, i.e. the full
    cross-correlation. Its "valid" part, rows kh − 1 … H̃ − 1 and columns
    kw − 1 … W̃ − 1, taken every stride, is Z − b. Agrees with
    :func:`conv2d_forward` to round-off (about 1e-15 relative).

    Parameters and result as in :func:`conv2d_forward_loop`.
    """
    x, W, b = _check_conv_args(x, W, b)
    (kh, kw), (sh, sw), pad, (Ho, Wo) = _geometry(x.shape, W.shape[2:], stride, padding)
    xp = _pad(x, pad)
    Hp, Wp = xp.shape[2:]
    shape = (Hp + kh - 1, Wp + kw - 1)
    X_hat = np.fft.rfft2(xp, s=shape)  # (m, C_in, ., .)
    K_hat = np.fft.rfft2(W[:, :, ::-1, ::-1], s=shape)  # (C_out, C_in, ., .)
    full = np.fft.irfft2(np.einsum("ncuv,kcuv->nkuv", X_hat, K_hat), s=shape)
    valid = full[:, :, kh - 1 : Hp, kw - 1 : Wp]
    return valid[:, :, ::sh, ::sw][:, :, :Ho, :Wo] + b[:, None, None]


def conv2d_forward(x, W, b, stride=1, padding=0):
    """Convolution as ONE matrix product (book equation ``eq-im2col``).

    ``cols = im2col(x, …)`` of shape (m·H_out·W_out, C_in·kh·kw), then
    ``cols @ W.reshape(C_out, -1).T + b``, reshaped to (m, C_out, H_out, W_out).

    Parameters and result as in :func:`conv2d_forward_loop`.
    """
    x, W, b = _check_conv_args(x, W, b)
    return _forward_cols(x, W, b, stride, padding)[0]


def _forward_cols(x, W, b, stride, padding):
    m, C_out = x.shape[0], W.shape[0]
    Ho, Wo = conv_output_shape(x.shape, W.shape[2:], stride, padding)
    cols = im2col(x, W.shape[2:], stride, padding)
    Z = cols @ W.reshape(C_out, -1).T + b
    return Z.reshape(m, Ho, Wo, C_out).transpose(0, 3, 1, 2), cols


def _check_grad(grad_out, shape):
    G = as_float_array(grad_out, "gradient grad_out")
    if G.shape != shape:
        raise ValueError(
            f"gradient grad_out must have the output's shape (m, C_out, H_out, W_out) = "
            f"{shape}, got {G.shape}"
        )
    return G


def conv2d_backward(x, W, grad_out, stride=1, padding=0, *, cols=None):
    """Gradients of the convolution by matrix products (book equation ``eq-conv-backward``).

    With G = ∂J/∂Z reshaped to (m·H_out·W_out, C_out) and W_mat = W.reshape(C_out, −1):
    dW = (Gᵀ cols).reshape(W.shape), db = Σ_rows G, dx = col2im(G W_mat, …).

    Parameters
    ----------
    x, W, grad_out, stride, padding
        As in :func:`conv2d_backward_loop`.
    cols : array, optional
        ``im2col(x, …)`` if already computed in the forward pass.

    Returns
    -------
    (dx, dW, db) : arrays of shapes (m, C_in, H, W), (C_out, C_in, kh, kw), (C_out,)
    """
    x, W, _ = _check_conv_args(x, W)
    Ho, Wo = conv_output_shape(x.shape, W.shape[2:], stride, padding)
    C_out = W.shape[0]
    G = _check_grad(grad_out, (x.shape[0], C_out, Ho, Wo))
    if cols is None:
        cols = im2col(x, W.shape[2:], stride, padding)
    G = G.transpose(0, 2, 3, 1).reshape(-1, C_out)  # (m·H_out·W_out, C_out)
    dW = (G.T @ cols).reshape(W.shape)
    db = G.sum(axis=0)
    dx = col2im(G @ W.reshape(C_out, -1), x.shape, W.shape[2:], stride, padding)
    return dx, dW, db


# ---------------------------------------------------------------------- layers
class Conv2D(WeightedLayer):
    """2-D convolution layer (cross-correlation), computed as one matrix product.

    Input x: (m, C_in, H, W); output Z: (m, C_out, H_out, W_out) with
    H_out = (H + 2·pad_h − kh) // stride_h + 1 (and likewise W_out). Parameters
    ``W`` of shape (C_out, C_in, kh, kw) and ``b`` of shape (C_out,); weight decay
    applies to ``W`` only. Forward is :func:`conv2d_forward` (``eq-im2col``); backward
    stores dW and db and returns dx as in :func:`conv2d_backward`
    (``eq-conv-backward``).

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
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding", allow_zero=True)
        self._x_shape = None
        self._cols = None
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

    def _forward(self, x):
        """Z = conv(x, W) + b for x of shape (m, C_in, H, W); returns (m, C_out, H_out, W_out)."""
        if x.ndim != 4 or x.shape[1] != self.c_in:
            raise ValueError(
                f"{self!r} expects input of shape (m, {self.c_in}, H, W) (C_in = "
                f"{self.c_in} channels), got {x.shape}"
            )
        self._out, self._cols = _forward_cols(x, self.W, self.b, self.stride, self.padding)
        self._x_shape = x.shape
        return self._out

    def _backward_params(self, g):
        """Store dW = (Gᵀ cols).reshape(W.shape), db = Σ_rows G; return G as rows."""
        G = g.transpose(0, 2, 3, 1).reshape(-1, self.c_out)  # (m·H_out·W_out, C_out)
        self.grads = {"W": (G.T @ self._cols).reshape(self.W.shape), "b": G.sum(axis=0)}
        return G

    def _backward(self, g):
        """Store dW = (Gᵀ cols).reshape(W.shape), db = Σ_rows G; return dx = col2im(G W_mat).

        As the first layer of a network in training only ``_backward_params`` runs,
        which skips G W_mat and col2im.
        """
        G = self._backward_params(g)
        W_mat = self.W.reshape(self.c_out, -1)
        return col2im(G @ W_mat, self._x_shape, self.kernel_size, self.stride, self.padding)


class Flatten(Layer):
    """Reshape (m, C, H, W) (or any (m, …)) to (m, C·H·W), one example per row.

    Sits between convolution layers and a :class:`~fcnn_lib.layers.Dense` layer. Its
    backward reshapes the gradient back to the input's shape; it has no parameters.
    The order of the flattened entries is C-order: entry c·H·W + r·W + s is x[:, c, r, s].
    """

    def __init__(self):
        super().__init__()
        self._shape = None

    def __repr__(self):
        return "Flatten()"

    def _forward(self, x):
        """(m, d₁, d₂, …) → (m, d₁·d₂·…)."""
        if x.ndim < 2:
            raise ValueError(f"{self!r} expects input of shape (m, ...) with at least 2 "
                             f"dimensions, got {x.shape}")
        self._shape = x.shape
        self._out = x.reshape(x.shape[0], -1)
        return self._out

    def _backward(self, g):
        """The gradient reshaped to the input's shape."""
        return g.reshape(self._shape)
