"""The δ recursion of chapter 5 in one place: forward and backward through a dense network.

This module is backpropagation written the way the book writes it, for a batch stored
one example per row. Lists are indexed by the layer number l, as in the book, so
``W[l]`` is W⁽ˡ⁾ (entry 0 is None: layer 0 is the input and has no weights):

=====================  ===============  =========================================
book                   code             shape
=====================  ===============  =========================================
W⁽ˡ⁾, b⁽ˡ⁾             ``W[l], b[l]``   (n_l, n_{l−1}) and (n_l,)
A⁽ˡ⁻¹⁾ (a⁽⁰⁾ = x)      ``a[l-1]``       (m, n_{l−1}); ``a[0]`` is the input X
Z⁽ˡ⁾, A⁽ˡ⁾             ``z[l], a[l]``   (m, n_l)
Δ⁽ˡ⁾ = ∂J/∂Z⁽ˡ⁾        ``delta[l]``     (m, n_l); row s is ∂J/∂z⁽ˡ⁾ of example s
f, f′ of layer l       ``f[l]``,        element-wise functions of Z⁽ˡ⁾
                       ``f_prime[l]``
=====================  ===============  =========================================

:func:`lists` turns a dense :class:`~fcnn_lib.network.Sequential` into these lists.

The equations, book labels ``eq-bp1`` to ``eq-bp4`` (one example, column vectors) and
``eq-bp-batch`` (the same with one example per row, which is what the code runs; its
four lines are BP1 to BP4 in that order)::

    BP1  δ⁽ᴸ⁾ = ∇_a J ⊙ f′(z⁽ᴸ⁾)               Δ⁽ᴸ⁾ = ∂J/∂A⁽ᴸ⁾ ⊙ f′(Z⁽ᴸ⁾)
    BP2  δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ f′(z⁽ˡ⁾)      Δ⁽ˡ⁾ = (Δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾) ⊙ f′(Z⁽ˡ⁾)
    BP3  ∂J/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ               ∂J/∂W⁽ˡ⁾ = Δ⁽ˡ⁾ᵀ A⁽ˡ⁻¹⁾
    BP4  ∂J/∂b⁽ˡ⁾ = δ⁽ˡ⁾                       ∂J/∂b⁽ˡ⁾ = column sums of Δ⁽ˡ⁾

Only element-wise activations fit BP1 and BP2 as written: softmax is not element-wise,
and :func:`~fcnn_lib.activations.softmax` or its Jacobian's diagonal
(:func:`~fcnn_lib.activations.softmax_prime_diagonal`) is refused as f or f′. Softmax
with cross-entropy goes through the fused loss instead (book equation
``eq-bp1-softmax-ce``): an identity output and ∂J/∂Z⁽ᴸ⁾ = (softmax(Z⁽ᴸ⁾) − Y)/m, the
gradient :func:`~fcnn_lib.losses.softmax_cross_entropy` returns. The 1/m of a mean cost
arrives with ∂J/∂A⁽ᴸ⁾ (every fcnn_lib loss gradient carries it), so ``delta[l]`` has rows
δ⁽ˡ⁾/m and the gradients are means over the batch. Weight decay λ adds λ W⁽ˡ⁾ to
``dW[l]`` and changes no δ (book equation ``eq-weight-decay``).

**Many networks at once.** Every array may carry the same leading axes, e.g. a run axis
of length R for R networks of one architecture trained side by side: ``W[l]`` of shape
(R, n_l, n_{l−1}), ``b[l]`` (R, n_l), the input (R, m, n_0), and then ``z[l]``,
``a[l]``, ``delta[l]`` (R, m, n_l), ``dW[l]`` (R, n_l, n_{l−1}), ``db[l]`` (R, n_l). That
is why the code writes ``.mT`` (the transpose of the last two axes, ``.T`` for a matrix),
sums over axis −2 (the examples) and adds ``b[l][..., None, :]`` (b as a row). Network
r's numbers are then exactly those of the same call on its own arrays.

:class:`fcnn_lib.network.Sequential` computes the same numbers layer by layer
(``tests/test_backprop.py`` checks it on random networks of several depths,
activations and losses, and for stacked networks).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ._checks import as_float_array
from .activations import (get_activation, softmax, softmax_jacobian, softmax_prime_diagonal,
                          softmax_vjp)

__all__ = ["forward", "backward", "lists"]


def forward(W, b, X, f):
    """The forward pass, book equations ``eq-forward`` and ``eq-forward-batch``.

    Parameters
    ----------
    W, b : list
        ``W[l]`` of shape (n_l, n_{l−1}) and ``b[l]`` of shape (n_l,) for l = 1..L;
        ``W[0]`` and ``b[0]`` are None. (With leading axes, e.g. (R, n_l, n_{l−1}) and
        (R, n_l) for R networks; see the module notes.)
    X : array of shape (m, n_0)
        The inputs, one example per row ((R, m, n_0) for R networks).
    f : callable or list
        The activation: one function for every layer, or ``f[l]`` for layer l
        (``f[0]`` None). Element-wise functions only (softmax is refused).

    Returns
    -------
    z, a : list
        ``z[l] = a[l-1] @ W[l].mT + b[l]`` (Z⁽ˡ⁾ = A⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ + b⁽ˡ⁾) and
        ``a[l] = f[l](z[l])``, each of shape (m, n_l); ``a[0]`` is X, ``z[0]`` None.
    """
    L, W, b, X, f = _check_forward(W, b, X, f)
    z, a = [None] * (L + 1), [X] + [None] * L
    for l in range(1, L + 1):
        z[l] = a[l - 1] @ W[l].mT + b[l][..., None, :]                  # eq-forward-batch
        a[l] = f[l](z[l])
    return z, a


def backward(W, z, a, dJ_da, f_prime):
    """The δ recursion: every Δ⁽ˡ⁾ and every gradient, book equations ``eq-bp1``–``eq-bp4``.

    Parameters
    ----------
    W : list
        ``W[l]`` of shape (n_l, n_{l−1}) for l = 1..L; ``W[0]`` is None.
    z, a : list
        From :func:`forward`: ``z[l]``, ``a[l]`` of shape (m, n_l), ``a[0]`` = X.
    dJ_da : array of shape (m, n_L)
        ∂J/∂A⁽ᴸ⁾, the gradient of the cost with respect to the output (for fcnn_lib's
        mean squared error, (A⁽ᴸ⁾ − Y)/m).
    f_prime : callable or list
        f′, one function for every layer or ``f_prime[l]`` for layer l (``f_prime[0]``
        None), evaluated at the pre-activation Z⁽ˡ⁾.

    Every array may carry leading axes, as in :func:`forward`.

    Returns
    -------
    delta, dW, db : list
        For l = 1..L (entry 0 None): ``delta[l]`` = Δ⁽ˡ⁾ = ∂J/∂Z⁽ˡ⁾ of shape (m, n_l),
        ``dW[l]`` = ∂J/∂W⁽ˡ⁾ of shape (n_l, n_{l−1}), ``db[l]`` = ∂J/∂b⁽ˡ⁾ of shape (n_l,).
    """
    L, W, dJ_da, f_prime = _check_backward(W, z, a, dJ_da, f_prime)
    delta, dW, db = [None] * (L + 1), [None] * (L + 1), [None] * (L + 1)
    delta[L] = dJ_da * f_prime[L](z[L])                              # BP1, eq-bp1
    for l in range(L - 1, 0, -1):                                    # l = L−1, …, 1
        delta[l] = (delta[l + 1] @ W[l + 1]) * f_prime[l](z[l])      # BP2, eq-bp2
    for l in range(1, L + 1):
        dW[l] = delta[l].mT @ a[l - 1]                               # BP3, eq-bp3
        db[l] = delta[l].sum(axis=-2)                                # BP4, eq-bp4
    return delta, dW, db


def lists(net):
    """A dense network as this module's lists: ``(W, b, f, f_prime)``, indexed by l.

    Parameters
    ----------
    net : fcnn_lib.Sequential
        Dense layers, each followed by at most one element-wise
        :class:`~fcnn_lib.layers.Activation` (as :func:`fcnn_lib.network.mlp` builds them).

    Returns
    -------
    W, b : list
        ``[None, W⁽¹⁾, …, W⁽ᴸ⁾]`` and ``[None, b⁽¹⁾, …, b⁽ᴸ⁾]``: the network's own
        parameter arrays, not copies (changing them in place changes the network).
    f, f_prime : list
        ``[None, f⁽¹⁾, …]`` and ``[None, f′⁽¹⁾, …]``: the functions of
        :mod:`fcnn_lib.activations` for the activation after dense layer l (with its
        slope for leaky ReLU), or the identity where none follows (e.g. the logits of
        a fused loss).

    Raises
    ------
    TypeError
        If ``net`` is not a Sequential.
    ValueError
        For any other layer (a convolution, Flatten, two activations in a row) and for
        a softmax activation, which goes through the fused loss (``eq-bp1-softmax-ce``).
    """
    from .layers import Activation, Dense
    from .network import Sequential

    if not isinstance(net, Sequential):
        raise TypeError(f"lists(net) needs a fcnn_lib Sequential, got {type(net).__name__}")
    W, b, f, f_prime = [None], [None], [None], [None]
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            W.append(layer.W)
            b.append(layer.b)
            f.append(None)
            f_prime.append(None)
        elif isinstance(layer, Activation) and len(W) > 1 and f[-1] is None:
            if layer.name == "softmax":
                raise ValueError(
                    f"layer {i} is Activation('softmax'), which is not element-wise, so BP1 and BP2 "
                    f"do not apply; end the network with Dense and use the fused loss "
                    f"'softmax_cross_entropy' on its logits (book equation eq-bp1-softmax-ce)"
                )
            f[-1], f_prime[-1] = get_activation(layer.name)
            if layer.name == "leaky_relu":
                f[-1], f_prime[-1] = partial(f[-1], slope=layer.slope), partial(f_prime[-1], slope=layer.slope)
        else:
            raise ValueError(
                f"lists(net) reads Dense layers, each followed by at most one element-wise "
                f"Activation; layer {i} of {net!r} is {layer!r}"
            )
    identity, identity_prime = get_activation("identity")
    f = [None] + [fn or identity for fn in f[1:]]
    f_prime = [None] + [fn or identity_prime for fn in f_prime[1:]]
    return W, b, f, f_prime


# ---------------------------------------------------------------------- input checks
def _layers(W, name="W"):
    """L, the number of layers, from W = [None, W⁽¹⁾, …, W⁽ᴸ⁾]."""
    if not isinstance(W, (list, tuple)):
        raise TypeError(f"{name} must be a list [None, {name}1, ..., {name}L], got {type(W).__name__}")
    if len(W) < 2 or W[0] is not None:
        got = "an empty list" if not W else f"{name}[0] = {_describe(W[0])}"
        raise ValueError(
            f"{name} must be [None, {name}1, ..., {name}L]: layers are numbered from 1 as in "
            f"the book ({name}[l] belongs to layer l, layer 0 is the input); got {got} "
            f"(length {len(W)})"
        )
    return len(W) - 1


def _describe(x):
    return f"an array of shape {np.shape(x)}" if hasattr(x, "shape") else repr(x)


#: Softmax and its pieces: not element-wise, so not an f or f′ of BP1/BP2.
_NOT_ELEMENTWISE = {softmax: "softmax", softmax_prime_diagonal: "softmax_prime_diagonal",
                    softmax_jacobian: "softmax_jacobian", softmax_vjp: "softmax_vjp"}


def _per_layer(fn, L, name):
    """``fn`` as a list [None, f1, ..., fL] (a single callable serves every layer)."""
    if callable(fn):
        fn = [None] + [fn] * L
    elif not isinstance(fn, (list, tuple)) or len(fn) != L + 1 or fn[0] is not None:
        raise ValueError(
            f"{name} must be one function or a list [None, {name}1, ..., {name}L] of "
            f"length L + 1 = {L + 1}; got {fn!r}"
        )
    for l in range(1, L + 1):
        if not callable(fn[l]):
            raise TypeError(f"{name}[{l}] must be a function of z, got {fn[l]!r}")
        if fn[l] in _NOT_ELEMENTWISE:
            raise ValueError(
                f"{name}[{l}] is {_NOT_ELEMENTWISE[fn[l]]}, but BP1 and BP2 need an element-wise "
                f"activation: softmax is not element-wise. Use an identity output and the fused "
                f"loss F.softmax_cross_entropy on the logits, whose gradient is dJ/dZ = "
                f"(softmax(Z) - Y)/m (book equation eq-bp1-softmax-ce)"
            )
    return list(fn)


def _check_weights(W, b=None):
    """(L, W, b, stack) with every W[l], b[l] a float64 array of matching shape; ``stack``
    is the shape of the leading axes, () for one network."""
    L = _layers(W, "W")
    if b is not None and _layers(b, "b") != L:
        raise ValueError(f"W has {L} layer(s) but b has {len(b) - 1}; give one b[l] per W[l]")
    W = [None] + [as_float_array(W[l], f"W[{l}]") for l in range(1, L + 1)]
    if W[1].ndim < 2:
        raise ValueError(f"W[1] must be a matrix of shape (n_1, n_0), got shape {W[1].shape}")
    stack = W[1].shape[:-2]
    for l in range(1, L + 1):
        if W[l].ndim != len(stack) + 2 or W[l].shape[:-2] != stack:
            raise ValueError(
                f"W[{l}] has shape {W[l].shape} but W[1] has {W[1].shape}: every W[l] must be a "
                f"matrix (n_l, n_(l-1)) with the same leading axes {stack}"
            )
    for l in range(2, L + 1):
        if W[l].shape[-1] != W[l - 1].shape[-2]:
            raise ValueError(
                f"W[{l}] has shape {W[l].shape}, so layer {l} expects {W[l].shape[-1]} input(s), "
                f"but W[{l - 1}] has shape {W[l - 1].shape}: layer {l - 1} has "
                f"{W[l - 1].shape[-2]} unit(s)"
            )
    if b is not None:
        b = [None] + [as_float_array(b[l], f"b[{l}]") for l in range(1, L + 1)]
        for l in range(1, L + 1):
            if b[l].shape != stack + (W[l].shape[-2],):
                raise ValueError(
                    f"b[{l}] must have shape {stack + (W[l].shape[-2],)} to match W[{l}] of shape "
                    f"{W[l].shape}; got {b[l].shape}"
                )
    return L, W, b, stack


def _check_forward(W, b, X, f):
    L, W, b, stack = _check_weights(W, b)
    X = as_float_array(X, "input X", ndim=len(stack) + 2)
    if X.shape[:-2] != stack or X.shape[-1] != W[1].shape[-1]:
        raise ValueError(
            f"input X must have shape {stack + ('m', W[1].shape[-1])} (one example per row, as "
            f"W[1] has shape {W[1].shape}); got {X.shape}".replace("'m'", "m")
        )
    return L, W, b, X, _per_layer(f, L, "f")


def _check_backward(W, z, a, dJ_da, f_prime):
    L, W, _, stack = _check_weights(W)
    for name, lst in (("z", z), ("a", a)):
        if not isinstance(lst, (list, tuple)) or len(lst) != L + 1:
            raise ValueError(
                f"{name} must be the list of length L + 1 = {L + 1} that forward() returns; "
                f"got {type(lst).__name__} of length {len(lst) if hasattr(lst, '__len__') else '?'}"
            )
    x_shape = np.shape(a[0])
    if len(x_shape) != len(stack) + 2 or x_shape[:-2] != stack or x_shape[-1] != W[1].shape[-1]:
        expected = str(stack + ("m", W[1].shape[-1])).replace("'m'", "m")
        raise ValueError(f"a[0] must be the input X of shape {expected}; got {x_shape}")
    m = x_shape[-2]
    for l in range(1, L + 1):
        expected = stack + (m, W[l].shape[-2])
        for name, arr in (("z", z[l]), ("a", a[l])):
            if not isinstance(arr, np.ndarray) or arr.shape != expected:
                raise ValueError(
                    f"{name}[{l}] must be an array of shape {expected} (m, n_{l}) as forward() "
                    f"returns it; got {_describe(arr)}"
                )
    dJ_da = as_float_array(dJ_da, "dJ_da")
    if dJ_da.shape != expected:
        raise ValueError(
            f"dJ_da (∂J/∂A of the output layer) must have the output's shape {expected}; "
            f"got {dJ_da.shape}"
        )
    return L, W, dJ_da, _per_layer(f_prime, L, "f_prime")
