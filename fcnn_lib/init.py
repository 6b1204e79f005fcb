"""Parameter initialisation schemes (book chapter 5, "why parameters start random").

Every scheme draws the weights from N(0, std²), with the standard deviation of
book equation ``eq-init``:

==========  ==============================  =====================================
scheme      std of the weights              biases
==========  ==============================  =====================================
"normal"    ``scale`` (default 0.01)        N(0, scale²), as the UFLDL notes
"xavier"    sqrt(2 / (fan_in + fan_out))    zeros (Glorot & Bengio 2010)
"he"        sqrt(2 / fan_in)                zeros (He et al. 2015, for ReLU)
"zeros"     0: every weight is zero         zeros (no randomness; units stay equal)
==========  ==============================  =====================================

fan_in is the number of inputs of one unit and fan_out the number of units one input
feeds (n_in and n_out for a dense layer). Every random draw comes from an explicit,
seeded ``numpy.random.Generator``: first the weights, then (for "normal") the biases.

The UFLDL notes are the UFLDL tutorial's notes on multi-layer networks, in the Chinese
translation the course draws on (bibliography entry ``seed_003``, "UFLDL Chinese
translation").
"""

from __future__ import annotations

import numpy as np

from ._checks import check_generator, check_number, check_positive_int, lookup

#: The names of the initialisation schemes.
SCHEMES = ("normal", "xavier", "he", "zeros")


def _check_scheme(scheme):
    return lookup(scheme, dict.fromkeys(SCHEMES, scheme), "initialisation scheme")


def init_std(scheme, fan_in, fan_out, scale=0.01):
    """Standard deviation of the weights under ``scheme`` (book equation ``eq-init``).

    ``"normal"`` gives ``scale`` (the sources' 0.01); ``"xavier"`` gives
    sqrt(2 / (fan_in + fan_out)); ``"he"`` gives sqrt(2 / fan_in); ``"zeros"`` gives 0.

    Parameters
    ----------
    scheme : {"normal", "xavier", "he", "zeros"}
    fan_in, fan_out : int
        Positive: inputs of one unit, and units one input feeds.
    scale : float
        Finite and > 0; used by ``"normal"`` only.
    """
    _check_scheme(scheme)
    fan_in = check_positive_int(fan_in, "fan_in")
    fan_out = check_positive_int(fan_out, "fan_out")
    scale = check_number(scale, "scale (std of the 'normal' scheme)", positive=True)
    if scheme == "normal":
        return scale
    if scheme == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    if scheme == "he":
        return float(np.sqrt(2.0 / fan_in))
    return 0.0  # "zeros"


def init_weights(scheme, shape, rng=None, *, fan_in, fan_out, scale=0.01):
    """A weight array of ``shape`` drawn from N(0, std²), std from :func:`init_std`.

    Parameters
    ----------
    scheme : {"normal", "xavier", "he", "zeros"}
    shape : tuple of int
        (n_out, n_in) for a dense layer.
    rng : numpy.random.Generator
        The only source of randomness; not needed for ``"zeros"``.
    fan_in, fan_out : int
        Inputs and outputs per unit (n_in and n_out for a dense layer).
    scale : float
        Standard deviation of the ``"normal"`` scheme.
    """
    std = init_std(scheme, fan_in, fan_out, scale)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple of positive integers such as (n_out, n_in), got "
                        f"{shape!r} ({type(shape).__name__})")
    shape = tuple(check_positive_int(n, "each entry of shape") for n in shape)
    if scheme == "zeros":
        return np.zeros(shape)
    return check_generator(rng, f"initialisation {scheme!r}").normal(0.0, std, size=shape)


def init_bias(scheme, n, rng=None, scale=0.01):
    """Biases of length ``n``: N(0, scale²) for ``"normal"`` (as UFLDL), zeros otherwise."""
    _check_scheme(scheme)
    n = check_positive_int(n, "number of biases")
    if scheme != "normal":
        return np.zeros(n)
    scale = check_number(scale, "scale (std of the 'normal' scheme)", positive=True)
    return check_generator(rng, "initialisation 'normal'").normal(0.0, scale, size=n)


def init_params(scheme, shape, rng=None, *, fan_in, fan_out, scale=0.01):
    """Weights of ``shape`` and biases of length ``shape[0]``, drawn in that order.

    Returns
    -------
    (W, b) : arrays of shapes ``shape`` and (shape[0],)
    """
    W = init_weights(scheme, shape, rng, fan_in=fan_in, fan_out=fan_out, scale=scale)
    return W, init_bias(scheme, W.shape[0], rng, scale=scale)
