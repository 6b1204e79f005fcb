"""The data set shipped with fcnn_lib, and the two helpers every training run needs.

:func:`load_digits` reads the UCI 8×8 handwritten digits stored in
``fcnn_lib/data/digits.npz`` (no download; source and licence in
``fcnn_lib/data/README.md``). :func:`one_hot` turns integer labels into the rows
that the cross-entropy losses expect, and :func:`train_val_test_split` splits a
data set into three parts, stratified by class, from an explicit seeded generator.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ._checks import check_generator, check_positive_int

#: Largest pixel value in the digits data (each pixel counts the set pixels of a 4×4
#: block of the original 32×32 bitmap, so it lies in 0..16).
DIGITS_MAX = 16


def load_digits():
    """Load the 1,797 UCI handwritten digits (8×8 pixels, classes 0–9).

    The stored pixels are integers 0..16 (counts of set pixels in 4×4 blocks of the
    original 32×32 bitmaps); they are divided by 16, so 0 stays 0 and the maximum
    possible count becomes 1.

    Returns
    -------
    images : array of shape (1797, 8, 8), float64
        Pixel intensities in [0, 1].
    labels : array of shape (1797,), int64
        The digit shown, 0..9.
    """
    ref = resources.files("fcnn_lib").joinpath("data", "digits.npz")
    with resources.as_file(ref) as path, np.load(path) as data:
        images = data["images"].astype(np.float64) / DIGITS_MAX
        labels = data["target"].astype(np.int64)
    return images, labels


def _check_labels(labels, name="labels"):
    labels = np.asarray(labels)
    if labels.dtype.kind == "b" or labels.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got an array of dtype {labels.dtype} (shape {labels.shape})")
    if labels.ndim != 1:
        raise ValueError(f"{name} must have shape (m,), got {labels.shape}")
    return labels


def one_hot(labels, n_classes):
    """One-hot rows from integer labels: ``Y[i, labels[i]] = 1``, all else 0.

    Parameters
    ----------
    labels : array of shape (m,), integers
        Class indices, each in 0..n_classes − 1.
    n_classes : int
        Number of classes (columns of the result).

    Returns
    -------
    array of shape (m, n_classes), float64

    Raises
    ------
    TypeError
        If the labels are not integers (floats such as 1.0 are refused, not rounded).
    ValueError
        If the labels are not one-dimensional or a label lies outside 0..n_classes − 1.
    """
    labels = _check_labels(labels)
    n_classes = check_positive_int(n_classes, "n_classes")
    bad = (labels < 0) | (labels >= n_classes)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for n_classes={n_classes}; "
            f"labels[{i}] = {int(labels[i])}"
        )
    Y = np.zeros((labels.shape[0], n_classes))
    Y[np.arange(labels.shape[0]), labels] = 1.0
    return Y


def train_val_test_split(X, y, fractions, rng):
    """Split (X, y) into training, validation and test sets, stratified by class.

    Each class is shuffled with ``rng`` and cut in the proportions ``fractions``, so
    every part holds (up to rounding) the same share of every class as the whole
    data set. Within each class the validation and test sizes are
    ``round(fraction · n_class)`` (the test size capped so that the two fit in the
    class) and the training set takes the rest. Each part is
    then shuffled, so its classes are interleaved.

    Parameters
    ----------
    X : array of shape (m, ...)
        Examples, one per entry of the first axis (any trailing shape, e.g. images).
    y : array of shape (m,), integers
        Class labels.
    fractions : sequence of three floats
        (train, validation, test), each ≥ 0, summing to 1.
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same split.

    Returns
    -------
    tuple
        ``(X_train, y_train), (X_val, y_val), (X_test, y_test)``.

    Raises
    ------
    ValueError
        Also if a part with a fraction > 0 would hold no example (too few examples).
    """
    check_generator(rng, "train_val_test_split")
    X = np.asarray(X)
    y = _check_labels(y, "y")
    if X.ndim < 1 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must hold the same number of examples; X has shape {X.shape}, "
            f"y has shape {y.shape}"
        )
    if y.shape[0] == 0:
        raise ValueError(f"cannot split a data set with no examples (X has shape {X.shape})")
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,):
        raise ValueError(f"fractions must be three numbers (train, val, test), got {fractions!r}")
    if np.any(~np.isfinite(fr)) or np.any(fr < 0) or abs(fr.sum() - 1.0) > 1e-9:
        raise ValueError(f"fractions must be >= 0 and sum to 1, got {fractions!r} (sum {fr.sum():.6g})")
    parts = ([], [], [])
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = int(round(fr[1] * idx.size))
        n_test = min(int(round(fr[2] * idx.size)), idx.size - n_val)  # rounding up twice
        n_train = idx.size - n_val - n_test
        parts[0].append(idx[:n_train])
        parts[1].append(idx[n_train:n_train + n_val])
        parts[2].append(idx[n_train + n_val:])
    classes, counts = np.unique(y, return_counts=True)
    sizes = dict(zip(classes.tolist(), counts.tolist()))
    for name, fraction, chunks in zip(("training", "validation", "test"), fr, parts):
        if fraction > 0 and sum(c.size for c in chunks) == 0:
            raise ValueError(
                f"the {name} set would be empty: fraction {fraction:g} of {y.shape[0]} example(s) "
                f"rounds to 0 in every class (examples per class: {sizes}); use more examples, or "
                f"a fraction of 0 for a part you do not want"
            )
    out = []
    for chunks in parts:
        idx = rng.permutation(np.concatenate(chunks))
        out.append((X[idx], y[idx]))
    return tuple(out)
