"""The mathematics of convolution: a loop reference, one matrix product, one backward (chapter 7).

The functions here compute; the layer that uses them in a network,
:class:`fcnn_lib.layers.Conv2D`, adds only its parameters and what it caches between
its forward and backward passes (:func:`conv2d_forward` and :func:`conv2d_backward`
with the patch matrix kept).

Letters as in chapter 7: example s, input channel j, output channel i, input pixel
(r, q), output position (u, v), kernel offset (μ, ν); an image has n_h × n_w pixels, a
kernel k_h × k_w, the padding is (p_h, p_w) and the stride (t_h, t_w). Shapes
(one example per leading index, as a dense batch has one example per row):

- input ``x``: (m, C_in, n_h, n_w);
- kernels ``W``: (C_out, C_in, k_h, k_w) (as PyTorch's Conv2d); biases ``b``: (C_out,);
- output ``Z``: (m, C_out, n′_h, n′_w) with n′_h = (n_h + 2·p_h − k_h) // t_h + 1
  and likewise n′_w.

"Convolution" means what deep learning means by it, a cross-correlation (book
equation ``eq-conv``): with x̃ the input padded with zeros,

    Z[s, i, u, v] = b[i] + Σ_{j, μ, ν} W[i, j, μ, ν] · x̃[s, j, u·t_h + μ, v·t_w + ν].

A true convolution flips the kernel (uses W[i, j, k_h−1−μ, k_w−1−ν]); for learned
kernels the two differ only by how the learned numbers are stored.

**The patch matrix** (``im2col``, book equation ``eq-im2col``). Every output position
(s, u, v) reads one patch x̃[s, :, u·t_h : u·t_h + k_h, v·t_w : v·t_w + k_w].
``im2col`` stores each patch as one row::

    cols : (m·n′_h·n′_w, C_in·k_h·k_w)
    row    s·n′_h·n′_w + u·n′_w + v        (example s, output position (u, v))
    column j·k_h·k_w + μ·k_w + ν           (input channel j, kernel offset (μ, ν))

The column order is that of ``W.reshape(C_out, -1)``, so the whole convolution is
one matrix product, the dense layer's Z = X Wᵀ + b with patches in place of examples::

    Z_mat = cols @ W.reshape(C_out, -1).T + b     (m·n′_h·n′_w, C_out)
    Z     = Z_mat.reshape(m, n′_h, n′_w, C_out).transpose(0, 3, 1, 2)

**Backward** (book equation ``eq-conv-backward``, the dimension-compatibility rule
applied to that product), with G = ∂J/∂Z brought to the layout of Z_mat,
(m·n′_h·n′_w, C_out), and W_mat = ``W.reshape(C_out, -1)``::

    dW    = (Gᵀ cols).reshape(W.shape)      (C_out, C_in, k_h, k_w)
    db    = Σ_rows G                        (C_out,)
    dcols = G W_mat                         (m·n′_h·n′_w, C_in·k_h·k_w)
    dx    = col2im(dcols, x.shape, ...)     (m, C_in, n_h, n_w)

``col2im`` is the adjoint (transpose) of ``im2col``: it sends every entry of a row
back to the input pixel it was copied from and *adds* the entries that land on the
same pixel, because overlapping patches copy a pixel several times and each copy
contributes to the gradient.

``kernel_size``, ``stride`` and ``padding`` are each an int or a pair (rows, columns):
(k_h, k_w), (t_h, t_w), (p_h, p_w). Bad input raises ValueError (or TypeError for
non-integers and missing arrays) naming the sizes: a kernel larger than the padded
input, a stride ≤ 0 (a positive stride always leaves at least one output once the
kernel fits), negative padding, a channel mismatch between ``x`` and ``W``, or
arrays with the wrong number of dimensions.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_pair

__all__ = [
    "conv_output_shape",
    "im2col",
    "col2im",
    "conv2d_forward_loop",
    "conv2d_backward_loop",
    "conv2d_forward_fft",
    "conv2d_forward",
    "conv2d_backward",
]


# ---------------------------------------------------------------------- checks
def _geometry(x_shape, kernel_size, stride, padding):
    """Check the sizes; return (k_h, k_w), (t_h, t_w), (p_h, p_w), (n′_h, n′_w)."""
    k_h, k_w = check_pair(kernel_size, "kernel_size")
    t_h, t_w = check_pair(stride, "stride")
    p_h, p_w = check_pair(padding, "padding", allow_zero=True)
    if len(x_shape) != 4:
        raise ValueError(
            f"convolution input must have shape (m, C_in, n_h, n_w) (4 dimensions), got "
            f"shape {tuple(x_shape)} ({len(x_shape)} dimension(s))"
        )
    n_h, n_w = x_shape[2], x_shape[3]
    padded_h, padded_w = n_h + 2 * p_h, n_w + 2 * p_w
    if k_h > padded_h or k_w > padded_w:
        raise ValueError(
            f"kernel {k_h}×{k_w} is larger than the padded input {padded_h}×{padded_w} "
            f"(input {n_h}×{n_w}, padding {p_h}×{p_w})"
        )
    return (k_h, k_w), (t_h, t_w), (p_h, p_w), ((padded_h - k_h) // t_h + 1, (padded_w - k_w) // t_w + 1)


def conv_output_shape(x_shape, kernel_size, stride=1, padding=0):
    """(n′_h, n′_w) = ((n_h + 2·p_h − k_h) // t_h + 1, (n_w + 2·p_w − k_w) // t_w + 1).

    ``x_shape`` is the input's shape (m, C_in, n_h, n_w); ``kernel_size`` (k_h, k_w),
    ``stride`` (t_h, t_w) and ``padding`` (p_h, p_w) are ints or pairs. Raises
    ValueError if the kernel is larger than the padded input, the stride is not
    positive or the padding is negative.
    """
    return _geometry(tuple(x_shape), kernel_size, stride, padding)[3]


def _check_x(x):
    x = as_float_array(x, "convolution input x")
    if x.ndim != 4:
        raise ValueError(
            f"convolution input x must have shape (m, C_in, n_h, n_w) (4 dimensions), got "
            f"shape {x.shape} ({x.ndim} dimension(s))"
        )
    return x


def _check_conv_args(x, W):
    x = _check_x(x)
    if W is None:
        raise TypeError("kernels W must be an array of shape (C_out, C_in, k_h, k_w), got None")
    W = as_float_array(W, "kernels W")
    if W.ndim != 4:
        raise ValueError(
            f"kernels W must have shape (C_out, C_in, k_h, k_w) (4 dimensions), got shape "
            f"{W.shape} ({W.ndim} dimension(s))"
        )
    if x.shape[1] != W.shape[1]:
        raise ValueError(
            f"x has C_in = {x.shape[1]} channel(s) (shape {x.shape}) but W expects "
            f"C_in = {W.shape[1]} (shape {W.shape})"
        )
    return x, W


def _check_bias(b, W):
    if b is None:
        raise TypeError(f"biases b must be an array of shape (C_out,) = ({W.shape[0]},), got None "
                        f"(use np.zeros({W.shape[0]}) for no bias)")
    b = as_float_array(b, "biases b")
    if b.shape != (W.shape[0],):
        raise ValueError(
            f"biases b must have shape (C_out,) = ({W.shape[0]},) for W of shape "
            f"{W.shape}, got {b.shape}"
        )
    return b


def _pad(x, padding):
    p_h, p_w = padding
    if p_h == 0 and p_w == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)))


def _check_cols(cols, x_shape, kernel_size, stride, padding):
    """``cols`` as a float64 array, refused unless it has the shape im2col gives for x_shape."""
    (k_h, k_w), _, _, (n_h_out, n_w_out) = _geometry(x_shape, kernel_size, stride, padding)
    cols = as_float_array(cols, "patch matrix cols")
    want = (x_shape[0] * n_h_out * n_w_out, x_shape[1] * k_h * k_w)
    if cols.shape != want:
        raise ValueError(
            f"patch matrix cols must have shape (m·n′_h·n′_w, C_in·k_h·k_w) = {want} for "
            f"input {tuple(x_shape)} and kernel {k_h}×{k_w}, got {cols.shape}"
        )
    return cols


def _check_grad(grad_out, shape):
    G = as_float_array(grad_out, "gradient grad_out")
    if G.shape != shape:
        raise ValueError(
            f"gradient grad_out must have the output's shape (m, C_out, n′_h, n′_w) = "
            f"{shape}, got {G.shape}"
        )
    return G


# ---------------------------------------------------------------------- im2col / col2im
def im2col(x, kernel_size, stride=1, padding=0):
    """The patch matrix of ``x``: one row per output position, one column per weight.

    Parameters
    ----------
    x : array of shape (m, C_in, n_h, n_w)
    kernel_size, stride, padding : int or pair
        (k_h, k_w), (t_h, t_w), (p_h, p_w).

    Returns
    -------
    array of shape (m·n′_h·n′_w, C_in·k_h·k_w)
        Row s·n′_h·n′_w + u·n′_w + v holds the (zero-padded) patch that output
        position (u, v) of example s reads, flattened in the order (j, μ, ν), i.e.
        entry j·k_h·k_w + μ·k_w + ν is x̃[s, j, u·t_h + μ, v·t_w + ν]. With
        ``W_mat = W.reshape(C_out, -1)`` the convolution is ``cols @ W_mat.T + b``
        (book equation ``eq-im2col``).

    Notes
    -----
    Vectorised with ``numpy.lib.stride_tricks.sliding_window_view``: a strided
    view of every window, then one copy into the row layout.
    """
    x = _check_x(x)
    (k_h, k_w), (t_h, t_w), pad, (n_h_out, n_w_out) = _geometry(x.shape, kernel_size, stride, padding)
    m, C_in = x.shape[:2]
    xp = _pad(x, pad)
    win = np.lib.stride_tricks.sliding_window_view(xp, (k_h, k_w), axis=(2, 3))
    # (m, C_in, n′_h, n′_w, k_h, k_w): window (u, v) starts at padded pixel (u·t_h, v·t_w)
    win = win[:, :, : (n_h_out - 1) * t_h + 1 : t_h, : (n_w_out - 1) * t_w + 1 : t_w]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(m * n_h_out * n_w_out, C_in * k_h * k_w)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """The adjoint of :func:`im2col`: scatter each row back onto its patch, ADDING overlaps.

    Parameters
    ----------
    cols : array of shape (m·n′_h·n′_w, C_in·k_h·k_w)
        In the layout of :func:`im2col` (e.g. ∂J/∂cols).
    x_shape : tuple (m, C_in, n_h, n_w)
        Shape of the input that ``im2col`` was applied to.
    kernel_size, stride, padding : int or pair
        As given to ``im2col``.

    Returns
    -------
    array of shape (m, C_in, n_h, n_w)
        Entry x[s, j, r, q] is the sum of every entry of ``cols`` that ``im2col``
        copied from that pixel; padding positions are dropped. So
        ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ for all x and y, which is why col2im of
        ∂J/∂cols is ∂J/∂x (book equation ``eq-conv-backward``).

    Notes
    -----
    One slice-add per kernel offset (μ, ν): k_h·k_w vectorised additions, no loop over
    examples or output positions.
    """
    x_shape = tuple(int(n) for n in x_shape)
    (k_h, k_w), (t_h, t_w), (p_h, p_w), (n_h_out, n_w_out) = _geometry(x_shape, kernel_size, stride, padding)
    m, C_in, n_h, n_w = x_shape
    cols = _check_cols(cols, x_shape, kernel_size, stride, padding)
    # (m, C_in, k_h, k_w, n′_h, n′_w), made contiguous once so that each slice-add below
    # reads memory in order (about twice as fast as adding from the strided view).
    patches = np.ascontiguousarray(
        cols.reshape(m, n_h_out, n_w_out, C_in, k_h, k_w).transpose(0, 3, 4, 5, 1, 2))
    xp = np.zeros((m, C_in, n_h + 2 * p_h, n_w + 2 * p_w))
    for mu in range(k_h):
        for nu in range(k_w):
            # offset (μ, ν) of output (u, v) is padded pixel (u·t_h + μ, v·t_w + ν)
            xp[:, :, mu : mu + (n_h_out - 1) * t_h + 1 : t_h,
               nu : nu + (n_w_out - 1) * t_w + 1 : t_w] += patches[:, :, mu, nu]
    return xp[:, :, p_h : p_h + n_h, p_w : p_w + n_w].copy()


# ---------------------------------------------------------------------- forward and backward
def conv2d_forward_loop(x, W, b, stride=1, padding=0):
    """Reference convolution: book equation ``eq-conv`` written as plain Python loops.

    One output number at a time: for every example s, output channel i and output
    position (u, v),
    Z[s, i, u, v] = b[i] + Σ_{j, μ, ν} W[i, j, μ, ν] · x̃[s, j, u·t_h + μ, v·t_w + ν],
    the sum taken with ``numpy.sum`` over the patch. Written for clarity, not
    speed: it runs m·C_out·n′_h·n′_w Python iterations.

    Parameters
    ----------
    x : array of shape (m, C_in, n_h, n_w)
    W : array of shape (C_out, C_in, k_h, k_w)
    b : array of shape (C_out,)
    stride, padding : int or pair
        (t_h, t_w) and (p_h, p_w).

    Returns
    -------
    array of shape (m, C_out, n′_h, n′_w)
    """
    x, W = _check_conv_args(x, W)
    b = _check_bias(b, W)
    (k_h, k_w), (t_h, t_w), pad, (n_h_out, n_w_out) = _geometry(x.shape, W.shape[2:], stride, padding)
    xp = _pad(x, pad)
    m, C_out = x.shape[0], W.shape[0]
    Z = np.zeros((m, C_out, n_h_out, n_w_out))
    for s in range(m):
        for i in range(C_out):
            for u in range(n_h_out):
                for v in range(n_w_out):
                    patch = xp[s, :, u * t_h : u * t_h + k_h, v * t_w : v * t_w + k_w]  # (C_in, k_h, k_w)
                    Z[s, i, u, v] = b[i] + np.sum(W[i] * patch)
    return Z


def conv2d_backward_loop(x, W, grad_out, stride=1, padding=0):
    """Reference gradients: the chain rule applied to one output number at a time.

    Output Z[s, i, u, v] = b[i] + Σ W[i] ⊙ patch depends on b[i] with slope 1, on
    W[i] with slope ``patch`` and on the patch with slope W[i]; so, with
    g = G[s, i, u, v] = ∂J/∂Z[s, i, u, v], it adds g to db[i], g·patch to dW[i] and
    g·W[i] to the gradient of the patch's pixels. Patches overlap, so a pixel
    collects (adds) the contributions of every output that read it. The same numbers
    as ``eq-conv-backward``, computed from ``eq-conv`` index by index.

    Parameters
    ----------
    x : array of shape (m, C_in, n_h, n_w)
        The forward input.
    W : array of shape (C_out, C_in, k_h, k_w)
    grad_out : array of shape (m, C_out, n′_h, n′_w)
        G = ∂J/∂Z.
    stride, padding : int or pair
        (t_h, t_w) and (p_h, p_w).

    Returns
    -------
    (dx, dW, db) : arrays of shapes (m, C_in, n_h, n_w), (C_out, C_in, k_h, k_w), (C_out,)
    """
    x, W = _check_conv_args(x, W)
    (k_h, k_w), (t_h, t_w), (p_h, p_w), (n_h_out, n_w_out) = _geometry(x.shape, W.shape[2:], stride, padding)
    m, C_out = x.shape[0], W.shape[0]
    G = _check_grad(grad_out, (m, C_out, n_h_out, n_w_out))
    xp = _pad(x, (p_h, p_w))
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    db = np.zeros(C_out)
    for s in range(m):
        for i in range(C_out):
            for u in range(n_h_out):
                for v in range(n_w_out):
                    rows, cols = slice(u * t_h, u * t_h + k_h), slice(v * t_w, v * t_w + k_w)
                    g = G[s, i, u, v]
                    db[i] += g
                    dW[i] += g * xp[s, :, rows, cols]
                    dxp[s, :, rows, cols] += g * W[i]
    return dxp[:, :, p_h : p_h + x.shape[2], p_w : p_w + x.shape[3]].copy(), dW, db


def conv2d_forward_fft(x, W, b, stride=1, padding=0):
    """Convolution through the FFT: full cross-correlation, then crop and stride.

    Each channel of the padded input (ñ_h × ñ_w = (n_h + 2p_h) × (n_w + 2p_w)) and
    each kernel flipped by 180° are zero-padded to (ñ_h + k_h − 1) × (ñ_w + k_w − 1)
    and transformed with ``numpy.fft.rfft2``; the product of the transforms, summed
    over input channels, is the transform of the full (linear) convolution with the
    flipped kernel, i.e. the full cross-correlation. Its "valid" part, rows
    k_h − 1 … ñ_h − 1 and columns k_w − 1 … ñ_w − 1, taken every stride, is Z − b
    (book equation ``eq-conv``). Agrees with :func:`conv2d_forward` to round-off
    (about 1e-15 relative).

    Parameters and result as in :func:`conv2d_forward_loop`.
    """
    x, W = _check_conv_args(x, W)
    b = _check_bias(b, W)
    (k_h, k_w), (t_h, t_w), pad, (n_h_out, n_w_out) = _geometry(x.shape, W.shape[2:], stride, padding)
    xp = _pad(x, pad)
    padded_h, padded_w = xp.shape[2:]
    shape = (padded_h + k_h - 1, padded_w + k_w - 1)
    X_hat = np.fft.rfft2(xp, s=shape)  # (m, C_in, ., .)
    K_hat = np.fft.rfft2(W[:, :, ::-1, ::-1], s=shape)  # (C_out, C_in, ., .)
    full = np.fft.irfft2(np.einsum("sjab,ijab->siab", X_hat, K_hat), s=shape)
    valid = full[:, :, k_h - 1 : padded_h, k_w - 1 : padded_w]
    return valid[:, :, ::t_h, ::t_w][:, :, :n_h_out, :n_w_out] + b[:, None, None]


def conv2d_forward(x, W, b, stride=1, padding=0, *, cols=None):
    """Convolution as ONE matrix product (book equation ``eq-im2col``).

    ``cols = im2col(x, …)`` of shape (m·n′_h·n′_w, C_in·k_h·k_w), then
    ``cols @ W.reshape(C_out, -1).T + b``, reshaped to (m, C_out, n′_h, n′_w).

    Parameters
    ----------
    x, W, b, stride, padding
        As in :func:`conv2d_forward_loop`.
    cols : array, optional
        ``im2col(x, …)`` if already computed (the convolution layer keeps it for its
        backward pass).

    Returns
    -------
    array of shape (m, C_out, n′_h, n′_w)
    """
    x, W = _check_conv_args(x, W)
    b = _check_bias(b, W)
    m, C_out = x.shape[0], W.shape[0]
    n_h_out, n_w_out = conv_output_shape(x.shape, W.shape[2:], stride, padding)
    if cols is None:
        cols = im2col(x, W.shape[2:], stride, padding)
    else:
        cols = _check_cols(cols, x.shape, W.shape[2:], stride, padding)
    Z = cols @ W.reshape(C_out, -1).T + b
    return Z.reshape(m, n_h_out, n_w_out, C_out).transpose(0, 3, 1, 2)


def conv2d_backward(x, W, grad_out, stride=1, padding=0, *, cols=None, input_grad=True):
    """Gradients of the convolution by matrix products (book equation ``eq-conv-backward``).

    With G = ∂J/∂Z reshaped to (m·n′_h·n′_w, C_out) and W_mat = W.reshape(C_out, −1):
    dW = (Gᵀ cols).reshape(W.shape), db = Σ_rows G, dx = col2im(G W_mat, …).
    The convolution layer's backward pass is this function.

    Parameters
    ----------
    x, W, grad_out, stride, padding
        As in :func:`conv2d_backward_loop`: x (m, C_in, n_h, n_w), W
        (C_out, C_in, k_h, k_w), grad_out (m, C_out, n′_h, n′_w).
    cols : array, optional
        ``im2col(x, …)`` if already computed in the forward pass.
    input_grad : bool
        If False, dx is not computed (None is returned in its place): it skips the
        product G W_mat and ``col2im``, which a network's first layer never needs.

    Returns
    -------
    (dx, dW, db) : arrays of shapes (m, C_in, n_h, n_w), (C_out, C_in, k_h, k_w), (C_out,)
    """
    x, W = _check_conv_args(x, W)
    n_h_out, n_w_out = conv_output_shape(x.shape, W.shape[2:], stride, padding)
    C_out = W.shape[0]
    G = _check_grad(grad_out, (x.shape[0], C_out, n_h_out, n_w_out))
    if cols is None:
        cols = im2col(x, W.shape[2:], stride, padding)
    else:
        cols = _check_cols(cols, x.shape, W.shape[2:], stride, padding)
    G = G.transpose(0, 2, 3, 1).reshape(-1, C_out)  # (m·n′_h·n′_w, C_out), the rows of Z_mat
    dW = (G.T @ cols).reshape(W.shape)
    db = G.sum(axis=0)
    if not input_grad:
        return None, dW, db
    dx = col2im(G @ W.reshape(C_out, -1), x.shape, W.shape[2:], stride, padding)
    return dx, dW, db
