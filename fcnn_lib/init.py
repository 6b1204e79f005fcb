"""Parameter initialisation schemes (book chapter 5, "why parameters start random").

Every random scheme draws from an explicit, seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_generator, lookup


def _normal_std(fan_in, fan_out, scale):
    return scale


def _xavier_std(fan_in, fan_out, scale):
    return np.sqrt(2.0 / (fan_in + fan_out))


def _he_std(fan_in, fan_out, scale):
    return np.sqrt(2.0 / fan_in)


#: Standard deviation of each scheme as a function of (fan_in, fan_out, scale).
SCHEMES = {
    "normal": _normal_std,  # N(0, scale²), the sources' N(0, 0.01²) by default
    "xavier": _xavier_std,  # Glorot & Bengio 2010: Var = 2 / (fan_in + fan_out)
    "he": _he_std,          # He et al. 2015: Var = 2 / fan_in, for ReLU layers
}


def init_std(scheme, fan_in, fan_out, scale=0.01):
    """Standard deviation of the weights under ``scheme``.

    ``"normal"`` gives ``scale`` (the sources' 0.01); ``"xavier"`` gives
    sqrt(2 / (fan_in + fan_out)); ``"he"`` gives sqrt(2 / fan_in).
    Book equation ``eq-init`` (chapter 5).
    """
    return float(lookup(scheme, SCHEMES, "initialisation scheme")(fan_in, fan_out, scale))


def init_weights(scheme, shape, rng, *, fan_in, fan_out, scale=0.01):
    """Draw a weight array of ``shape`` from N(0, std²) with std from :func:`init_std`.

    Parameters
    ----------
    scheme : {"normal", "xavier", "he"}
    shape : tuple of int
        (n_out, n_in) for a dense layer.
    rng : numpy.random.Generator
        The only source of randomness.
    fan_in, fan_out : int
        Inputs and outputs per unit (n_in and n_out for a dense layer).
    scale : float
        Standard deviation of the ``"normal"`` scheme.
    """
    std = init_std(scheme, fan_in, fan_out, scale)
    check_generator(rng, f"initialisation {scheme!r}")
    return rng.normal(0.0, std, size=shape)


def init_bias(scheme, n, rng, scale=0.01):
    """Biases of length ``n``: N(0, scale²) for ``"normal"`` (as UFLDL), zeros otherwise."""
    lookup(scheme, SCHEMES, "initialisation scheme")
    if scheme == "normal":
        return check_generator(rng, "initialisation 'normal'").normal(0.0, scale, size=n)
    return np.zeros(n)
