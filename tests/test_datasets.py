"""The shipped digits data, one-hot labels and the seeded stratified split."""

import numpy as np
import pytest

from fcnn_lib.datasets import DIGITS_MAX, load_digits, one_hot, train_val_test_split


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_load_digits_shapes_dtypes_and_range(digits):
    images, labels = digits
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64
    assert labels.shape == (1797,) and labels.dtype.kind == "i"
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))


def test_load_digits_scaling_is_division_by_16(digits):
    images, _ = digits
    counts = images * DIGITS_MAX
    np.testing.assert_array_equal(counts, np.round(counts))  # integers 0..16 exactly
    assert DIGITS_MAX == 16


def test_load_digits_class_counts(digits):
    _, labels = digits
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == 1797
    assert counts.min() >= 170 and counts.max() <= 190  # roughly balanced, as published


def test_load_digits_returns_fresh_arrays(digits):
    images, labels = load_digits()
    images[0, 0, 0] = 99.0
    images2, _ = load_digits()
    assert images2[0, 0, 0] != 99.0


def test_one_hot_values():
    Y = one_hot(np.array([2, 0, 1, 2]), 3)
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(Y.argmax(axis=1), [2, 0, 1, 2])


def test_one_hot_empty_and_list():
    assert one_hot(np.zeros(0, dtype=int), 4).shape == (0, 4)
    assert one_hot([0, 3], 4).shape == (2, 4)


@pytest.mark.parametrize(
    "labels,n,exc,match",
    [
        (np.array([0, 3]), 3, ValueError, r"0\.\.2.*labels\[1\] = 3"),
        (np.array([-1, 0]), 3, ValueError, r"labels\[0\] = -1"),
        (np.array([0.0, 1.0]), 3, TypeError, "integers"),
        (np.array([True, False]), 3, TypeError, "integers"),
        (np.array([["a"]]), 3, TypeError, "integers"),
        (np.array([[0, 1]]), 3, ValueError, r"shape \(m,\)"),
        (np.array([0, 1]), 0, ValueError, "n_classes"),
        (np.array([0, 1]), 2.0, TypeError, "n_classes"),
    ],
)
def test_one_hot_errors(labels, n, exc, match):
    with pytest.raises(exc, match=match):
        one_hot(labels, n)


def test_split_sizes_partition_and_stratification(digits):
    images, labels = digits
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(
        images, labels, (0.6, 0.2, 0.2), np.random.default_rng(0))
    assert Xtr.shape[1:] == (8, 8)
    assert len(ytr) + len(yva) + len(yte) == 1797
    assert Xtr.shape[0] == len(ytr) and Xva.shape[0] == len(yva) and Xte.shape[0] == len(yte)
    whole = np.bincount(labels, minlength=10)
    for y, f in ((yva, 0.2), (yte, 0.2)):
        counts = np.bincount(y, minlength=10)
        np.testing.assert_array_equal(counts, np.round(f * whole).astype(int))
    # Every image is used exactly once: compare the multiset of rows.
    together = np.concatenate([Xtr, Xva, Xte]).reshape(1797, -1)
    key = lambda A: A[np.lexsort(A.T[::-1])]
    np.testing.assert_array_equal(key(together), key(images.reshape(1797, -1)))
    # Labels travel with their images.
    flat = {images[i].tobytes(): set() for i in range(1797)}
    for i in range(1797):
        flat[images[i].tobytes()].add(int(labels[i]))
    for X, y in ((Xtr, ytr), (Xva, yva), (Xte, yte)):
        for x, c in zip(X, y):
            assert int(c) in flat[x.tobytes()]


def test_split_is_shuffled_within_parts(digits):
    images, labels = digits
    (_, ytr), _, _ = train_val_test_split(images, labels, (0.6, 0.2, 0.2), np.random.default_rng(0))
    assert not np.all(np.diff(ytr) >= 0)  # not sorted by class


def test_split_is_deterministic_with_a_seed(digits):
    images, labels = digits
    a = train_val_test_split(images, labels, (0.7, 0.15, 0.15), np.random.default_rng(3))
    b = train_val_test_split(images, labels, (0.7, 0.15, 0.15), np.random.default_rng(3))
    c = train_val_test_split(images, labels, (0.7, 0.15, 0.15), np.random.default_rng(4))
    for (Xa, ya), (Xb, yb) in zip(a, b):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[0][1], c[0][1])


def test_split_small_classes_never_overfill():
    y = np.array([0, 0, 0, 1, 1, 1])
    X = np.arange(6.0)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, (0.0, 0.5, 0.5), np.random.default_rng(0))
    assert len(ytr) + len(yva) + len(yte) == 6
    np.testing.assert_array_equal(np.sort(np.concatenate([Xtr, Xva, Xte])), X)


@pytest.mark.parametrize(
    "fractions,match",
    [
        ((0.5, 0.5), "three numbers"),
        ((0.6, 0.3, 0.3), "sum to 1"),
        ((1.2, -0.1, -0.1), ">= 0"),
        ((np.nan, 0.5, 0.5), "sum to 1"),
    ],
)
def test_split_bad_fractions(fractions, match):
    with pytest.raises(ValueError, match=match):
        train_val_test_split(np.zeros((4, 2)), np.array([0, 1, 0, 1]), fractions, np.random.default_rng(0))


def test_split_errors():
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(TypeError, match="Generator"):
        train_val_test_split(X, y, (0.5, 0.25, 0.25), 0)
    with pytest.raises(ValueError, match="same number of examples"):
        train_val_test_split(X[:3], y, (0.5, 0.25, 0.25), np.random.default_rng(0))
    with pytest.raises(TypeError, match="integers"):
        train_val_test_split(X, y.astype(float), (0.5, 0.25, 0.25), np.random.default_rng(0))
