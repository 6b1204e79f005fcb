"""The mathematics of convolution: a loop reference, one matrix product, one backward (chapter 7).

The functions here compute; the layer that uses them in a network,
:class:`fcnn_lib.layers.Conv2D`, adds only its parameters and what it caches between
its forward and backward passes (:func:`conv2d_forward` and :func:`conv2d_backward`
with the patch matrix kept).

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
    """Check the sizes; return (kh, kw), (sh, sw), (ph, pw), (H_out, W_out)."""
    kh, kw = check_pair(kernel_size, "kernel_size")
    sh, sw = check_pair(stride, "stride")
    ph, pw = check_pair(padding, "padding", allow_zero=True)
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


def _check_cols(cols, x_shape, kernel_size, stride, padding):
    """``cols`` as a float64 array, refused unless it has the shape im2col gives for x_shape."""
    (kh, kw), _, _, (Ho, Wo) = _geometry(x_shape, kernel_size, stride, padding)
    cols = as_float_array(cols, "patch matrix cols")
    want = (x_shape[0] * Ho * Wo, x_shape[1] * kh * kw)
    if cols.shape != want:
        raise ValueError(
            f"patch matrix cols must have shape (m·H_out·W_out, C_in·kh·kw) = {want} for "
            f"input {tuple(x_shape)} and kernel {kh}×{kw}, got {cols.shape}"
        )
    return cols


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
    cols = _check_cols(cols, x_shape, kernel_size, stride, padding)
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


def conv2d_forward(x, W, b, stride=1, padding=0, *, cols=None):
    """Convolution as ONE matrix product (book equation ``eq-im2col``).

    ``cols = im2col(x, …)`` of shape (m·H_out·W_out, C_in·kh·kw), then
    ``cols @ W.reshape(C_out, -1).T + b``, reshaped to (m, C_out, H_out, W_out).

    Parameters
    ----------
    x, W, b, stride, padding
        As in :func:`conv2d_forward_loop`.
    cols : array, optional
        ``im2col(x, …)`` if already computed (the convolution layer keeps it for its
        backward pass).

    Returns
    -------
    array of shape (m, C_out, H_out, W_out)
    """
    x, W, b = _check_conv_args(x, W, b)
    m, C_out = x.shape[0], W.shape[0]
    Ho, Wo = conv_output_shape(x.shape, W.shape[2:], stride, padding)
    if cols is None:
        cols = im2col(x, W.shape[2:], stride, padding)
    else:
        cols = _check_cols(cols, x.shape, W.shape[2:], stride, padding)
    Z = cols @ W.reshape(C_out, -1).T + b
    return Z.reshape(m, Ho, Wo, C_out).transpose(0, 3, 1, 2)


def _check_grad(grad_out, shape):
    G = as_float_array(grad_out, "gradient grad_out")
    if G.shape != shape:
        raise ValueError(
            f"gradient grad_out must have the output's shape (m, C_out, H_out, W_out) = "
            f"{shape}, got {G.shape}"
        )
    return G


def conv2d_backward(x, W, grad_out, stride=1, padding=0, *, cols=None, input_grad=True):
    """Gradients of the convolution by matrix products (book equation ``eq-conv-backward``).

    With G = ∂J/∂Z reshaped to (m·H_out·W_out, C_out) and W_mat = W.reshape(C_out, −1):
    dW = (Gᵀ cols).reshape(W.shape), db = Σ_rows G, dx = col2im(G W_mat, …).
    The convolution layer's backward pass is this function.

    Parameters
    ----------
    x, W, grad_out, stride, padding
        As in :func:`conv2d_backward_loop`.
    cols : array, optional
        ``im2col(x, …)`` if already computed in the forward pass.
    input_grad : bool
        If False, dx is not computed (None is returned in its place): it skips the
        product G W_mat and ``col2im``, which a network's first layer never needs.

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
    else:
        cols = _check_cols(cols, x.shape, W.shape[2:], stride, padding)
    G = G.transpose(0, 2, 3, 1).reshape(-1, C_out)  # (m·H_out·W_out, C_out)
    dW = (G.T @ cols).reshape(W.shape)
    db = G.sum(axis=0)
    if not input_grad:
        return None, dW, db
    dx = col2im(G @ W.reshape(C_out, -1), x.shape, W.shape[2:], stride, padding)
    return dx, dW, db


def __getattr__(name):
    # The convolution layer and Flatten live with the other layers in fcnn_lib.layers;
    # ``from fcnn_lib.conv import Conv2D, Flatten`` keeps working.
    if name in ("Conv2D", "Flatten"):
        from . import layers

        return getattr(layers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
