"""Loss functions, each returning its value and its gradient (book chapter 1 and 5).

Conventions: a batch holds one example per row; predictions and labels have the same
shape (m, n_out) exactly (no broadcasting); every loss is a mean over the m examples,
so its gradient carries a factor 1/m. Each function returns a :class:`Loss` pair
``(value, grad)`` where ``grad`` has the shape of the prediction argument.

Refused (ValueError or TypeError, naming what was received): a batch with no
examples; NaN or inf; shapes that differ; for the binary cross-entropies, labels
outside [0, 1]; for the categorical ones, label rows that are not probability
distributions (one-hot or soft labels: entries in [0, 1] summing to 1), including
integer class labels of shape (m,) or (m, 1) (use :func:`fcnn_lib.datasets.one_hot`),
and a single class (one column: the loss would be 0). :func:`check_inputs` makes
these checks; a new loss can call it too.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_nonempty, check_same_shape, lookup
from .activations import sigmoid, softmax

#: Probabilities are clipped to [EPS, 1 − EPS] inside logarithms and divisions, so a
#: prediction of exactly 0 or 1 gives a large but finite loss and gradient.
EPS = 1e-12


class Loss(NamedTuple):
    """A loss value and its gradient with respect to the prediction argument."""

    value: float
    grad: np.ndarray


#: How far a row of labels may sum from 1 and still count as a probability
#: distribution (round-off in labels that were computed, e.g. smoothed).
ROW_SUM_TOL = 1e-6


def check_inputs(pred, y, pred_name="prediction", labels=None):
    """The checks every loss makes: returns float64 (pred, y, m).

    Public so that a new loss can make the same checks. ``pred`` must be a batch of
    shape (m, n_out) with m ≥ 1 and ``y`` exactly the same shape (no broadcasting);
    both finite. ``labels`` says what y must be: None (any real numbers),
    ``"probabilities"`` (each entry in [0, 1]) or ``"distributions"`` (each row too
    sums to 1: one-hot or soft labels over n_out ≥ 2 classes). Raises ValueError or
    TypeError naming ``pred_name`` and what was received.
    """
    pred = as_float_array(pred, pred_name, ndim=2)
    check_nonempty(pred, pred_name)
    y = as_float_array(y, "labels y")
    if labels == "distributions":
        if pred.shape[1] < 2:
            raise ValueError(
                f"{pred_name} has shape {pred.shape}: a categorical loss needs at least 2 classes "
                f"(one column each); with one class every distribution is [1], so the loss would "
                f"be 0 and its gradient 0. For two classes in one column use "
                f"sigmoid_cross_entropy on logits (or binary_cross_entropy on probabilities)"
            )
        if (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)) and y.shape != pred.shape:
            raise ValueError(
                f"labels y has shape {y.shape} but {pred_name} has shape {pred.shape}: this loss "
                f"needs one row of class probabilities per example (one-hot), e.g. "
                f"F.one_hot(y{'.ravel()' if y.ndim == 2 else ''}, {pred.shape[1]}) for integer "
                f"class labels"
            )
    check_same_shape(pred, y, pred_name, "labels y")
    if labels is not None:
        _check_probabilities(y, "labels y")
    if labels == "distributions":
        sums = y.sum(axis=1)
        bad = np.abs(sums - 1.0) > ROW_SUM_TOL
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"each row of labels y must sum to 1 (one-hot or soft labels: a probability "
                f"distribution over the {y.shape[1]} classes); row {i} sums to {sums[i]:.6g}"
            )
    return pred, y, pred.shape[0]


def _check_probabilities(p, name):
    if p.min() < 0 or p.max() > 1:
        raise ValueError(
            f"{name} must be probabilities in [0, 1]; got values in "
            f"[{p.min():.6g}, {p.max():.6g}]"
        )


def mse(a, y):
    """Mean squared error J = 1/(2m) Σ_s ‖a^⟨s⟩ − y^⟨s⟩‖², with gradient (a − y)/m.

    Book equation ``eq-mse`` (chapter 1); gradient in ``eq-bp1-mse`` (chapter 5).

    Parameters
    ----------
    a : array of shape (m, n_out)
        Network outputs.
    y : array of shape (m, n_out)
        Targets, the same shape as ``a``.
    """
    a, y, m = check_inputs(a, y, "prediction a")
    diff = a - y
    return Loss(float(0.5 * np.sum(diff * diff) / m), diff / m)


def binary_cross_entropy(p, y):
    """Binary cross-entropy J = −1/m Σ_s Σ_i [y_i log p_i + (1 − y_i) log(1 − p_i)]^⟨s⟩.

    Book equation ``eq-bce`` (chapter 1), summed over the examples s and the output
    units i. Gradient (p − y) / (p(1 − p)) / m, with p clipped to [EPS, 1 − EPS] so
    that p = 0 or 1 stays finite. Shapes: p and y (m, n_out); the gradient (m, n_out).
    """
    p, y, m = check_inputs(p, y, "probabilities p", labels="probabilities")
    _check_probabilities(p, "probabilities p")
    pc = np.clip(p, EPS, 1.0 - EPS)
    value = -np.sum(y * np.log(pc) + (1.0 - y) * np.log1p(-pc)) / m
    grad = (pc - y) / (pc * (1.0 - pc)) / m
    return Loss(float(value), grad)


def categorical_cross_entropy(p, y):
    """Categorical cross-entropy J = −1/m Σ_s Σ_k y^⟨s⟩_k log p^⟨s⟩_k.

    Book equation ``eq-cce`` (chapter 1): examples s, classes k. Gradient −y / p / m
    with p clipped to [EPS, 1]. Shapes (m, K) with K ≥ 2 classes; the gradient
    (m, K). Each row of ``y`` is a probability distribution (one-hot or soft labels:
    entries in [0, 1] summing to 1); ``p`` holds probabilities (in [0, 1]), e.g. the
    rows of a softmax. Its rows are not required to sum to 1, so that J can be
    differentiated with respect to each entry alone.
    """
    p, y, m = check_inputs(p, y, "probabilities p", labels="distributions")
    _check_probabilities(p, "probabilities p")
    pc = np.clip(p, EPS, 1.0)
    return Loss(float(-np.sum(y * np.log(pc)) / m), -y / pc / m)


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_cross_entropy(z, y):
    """Softmax followed by categorical cross-entropy, fused, on the logits z.

    Book equation ``eq-bp1-softmax-ce`` (chapter 5): the gradient with respect to
    the logits is (softmax(z) − y)/m. The value uses log-softmax, so no probability
    is ever rounded to 0 before its logarithm. Shapes: z and y (m, K) with K ≥ 2
    classes; the gradient (m, K).
    """
    z, y, m = check_inputs(z, y, "logits z", labels="distributions")
    value = -np.sum(y * _log_softmax(z)) / m
    return Loss(float(value), (softmax(z) - y) / m)


def sigmoid_cross_entropy(z, y):
    """Sigmoid followed by binary cross-entropy, fused, on the logits z.

    Book equation ``eq-bp1-sigmoid-ce`` (chapter 5): the gradient with respect to the
    logits is (σ(z) − y)/m. The value uses log σ(z) = −log(1 + e^{−z}) computed
    stably. Shapes: z and y (m, n_out); the gradient (m, n_out).
    """
    z, y, m = check_inputs(z, y, "logits z", labels="probabilities")
    # −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − y z + log(1 + e^{−|z|})
    value = np.sum(np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z)))) / m
    return Loss(float(value), (sigmoid(z) - y) / m)


#: Losses by name. The fused ones take logits (use them after an identity output).
LOSSES = {
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
    "categorical_cross_entropy": categorical_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
    "sigmoid_cross_entropy": sigmoid_cross_entropy,
}


def get_loss(name):
    """Return the loss function called ``name`` (ValueError lists the known names)."""
    return lookup(name, LOSSES, "loss")
