"""What the notebooks depend on, pinned by the library's own tests.

The chapters' stored outputs are only a check until someone re-executes them: a silent
change of a default, of an initialisation, of the data split or of the training loop
would simply be re-recorded. These tests fail on any such change, whatever the
notebooks say:

- the documented defaults of every public constructor and function (signature and
  docstring agree, and the default network is what the docs say);
- every initialisation scheme: its standard deviation (sample std within tolerance),
  its biases (zero, or N(0, scale²) for "normal"), and the exact numbers a seed gives
  (a hash, which also pins the order of the draws: layer by layer, W before b);
- the shipped data and the split for a fixed seed (hashes of the images and of the
  indices of each part);
- the training loop: one permutation of the rows per epoch from the given generator,
  consecutive batches with a smaller last one, the history's contents, and J falling.
"""

import hashlib
import inspect
import re

import numpy as np
import pytest

import fcnn_lib as F


def digest(*arrays):
    """The first 16 hex digits of the SHA-256 of the arrays' float64 bytes."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def defaults(fn):
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty}


# ---------------------------------------------------------------------- defaults
DEFAULTS = {
    F.mlp: dict(activation="sigmoid", output="identity", loss="mse", init="xavier", rng=None,
                scale=0.01, slope=0.01),
    F.Sequential: dict(loss="mse"),
    F.Sequential.initialize: dict(rng=None, scale=0.01),
    F.Sequential.loss: dict(weight_decay=0.0),
    F.Sequential.backward: dict(weight_decay=0.0, input_grad=True),
    F.Sequential.train_step: dict(weight_decay=0.0),
    F.Sequential.fit: dict(weight_decay=0.0, shuffle=True, callback=None),
    F.Dense: dict(init="xavier", rng=None, scale=0.01),
    F.Conv2D: dict(stride=1, padding=0, init="he", rng=None, scale=0.01),
    F.Activation: dict(slope=0.01),
    F.leaky_relu: dict(slope=0.01),
    F.leaky_relu_prime: dict(slope=0.01),
    F.init_std: dict(scale=0.01),
    F.numerical_gradient: dict(h=1e-5, order=2),
    F.check_gradient: dict(h=1e-5),
    F.check_network: dict(weight_decay=0.0, h=1e-5, order=2),
    F.GradCheck.passed: dict(tol=1e-7),
}


@pytest.mark.parametrize("fn", DEFAULTS, ids=lambda f: f.__qualname__)
def test_documented_defaults(fn):
    assert defaults(fn) == DEFAULTS[fn]


def test_docstrings_state_the_defaults():
    doc = inspect.getdoc(F.mlp)
    for name, value in DEFAULTS[F.mlp].items():
        if name != "rng":
            assert re.search(rf"default ``{re.escape(repr(value).replace(chr(39), chr(34)))}``|default {value}", doc), name
    for cls, init in ((F.Dense, "xavier"), (F.Conv2D, "he")):
        doc = inspect.getdoc(cls)
        assert f'default ``"{init}"``' in doc and "(default 0.01)" in doc, cls
    assert "(default 0.01)" in inspect.getdoc(F.Activation) and F.activations.DEFAULT_SLOPE == 0.01
    assert F.losses.EPS == 1e-12 and F.losses.ROW_SUM_TOL == 1e-6


def test_the_default_network_is_what_the_docs_say():
    net = F.mlp([3, 4, 2], rng=np.random.default_rng(0))
    assert repr(net) == "Sequential([Dense(3, 4), Activation('sigmoid'), Dense(4, 2)], loss='mse')"
    W1, b1 = net.params()["W1"], net.params()["b1"]
    assert F.init_std("xavier", 3, 4) == np.sqrt(2 / 7)
    assert not b1.any() and W1.shape == (4, 3)
    assert digest(*net.params().values()) == "7ac9bda0eaafdf14"  # the xavier draws of seed 0


# ---------------------------------------------------------------------- initialisation
SCHEME_STD = {
    "normal": lambda fan_in, fan_out: 0.01,
    "xavier": lambda fan_in, fan_out: np.sqrt(2 / (fan_in + fan_out)),
    "he": lambda fan_in, fan_out: np.sqrt(2 / fan_in),
    "zeros": lambda fan_in, fan_out: 0.0,
}


@pytest.mark.parametrize("scheme", list(SCHEME_STD))
def test_initialisation_statistics_of_every_scheme(scheme):
    n_in, n_out = 400, 300
    layer = F.Dense(n_in, n_out, init=scheme, rng=np.random.default_rng(5))
    std = SCHEME_STD[scheme](n_in, n_out)
    assert F.init_std(scheme, n_in, n_out) == pytest.approx(std, rel=1e-15)
    # 120 000 draws: the sample std is within 1 % of std (about 5 standard errors).
    assert layer.W.std() == pytest.approx(std, rel=0.01, abs=0)
    assert abs(layer.W.mean()) < 0.01 * std or std == 0
    if scheme == "normal":  # biases N(0, scale²), like the weights
        wide = F.Dense(2, 100_000, init="normal", rng=np.random.default_rng(6), scale=0.5)
        assert wide.b.std() == pytest.approx(0.5, rel=0.01) and abs(wide.b.mean()) < 0.01
    else:
        assert not layer.b.any()


@pytest.mark.parametrize("scheme", ["xavier", "he", "normal"])
def test_convolution_fans(scheme):
    layer = F.Conv2D(8, 16, (3, 5), init=scheme, rng=np.random.default_rng(0))
    std = F.init_std(scheme, 8 * 3 * 5, 16 * 3 * 5)
    assert std == pytest.approx(SCHEME_STD[scheme](8 * 15, 16 * 15))
    assert layer.W.std() == pytest.approx(std, rel=0.03)


def test_zeros_needs_no_generator_and_gives_zeros():
    for layer in (F.Dense(3, 2, init="zeros"), F.Conv2D(2, 3, 2, init="zeros")):
        assert not layer.W.any() and not layer.b.any()
    net = F.mlp([3, 4, 2], init="zeros")
    assert all(not p.any() for p in net.params().values())


@pytest.mark.parametrize("scheme,kwargs,expected", [
    ("normal", {}, "36937c179bc12d5c"),
    ("normal", {"scale": 1.0, "seed": 1}, "1f801025089ec77e"),
    ("xavier", {}, "7ac9bda0eaafdf14"),
    ("he", {}, "7ee848bc4487c1e4"),
    ("zeros", {}, "46f531b7ea0428fb"),
])
def test_initial_parameters_of_a_seed_are_pinned(scheme, kwargs, expected):
    seed = kwargs.pop("seed", 0)
    rng = None if scheme == "zeros" else np.random.default_rng(seed)
    net = F.mlp([3, 4, 2], init=scheme, rng=rng, **kwargs)
    assert digest(*net.params().values()) == expected
    # initialize() redraws in the same order: layer by layer, W before b
    again = F.mlp([3, 4, 2], init="zeros")
    again.initialize(scheme, None if rng is None else np.random.default_rng(seed), **kwargs)
    assert digest(*again.params().values()) == expected


def test_convolution_initial_parameters_are_pinned():
    conv = F.Conv2D(2, 3, (3, 2), rng=np.random.default_rng(0))
    assert digest(conv.W, conv.b) == "6dec1b645e8ec960"


# ---------------------------------------------------------------------- data
def test_digits_are_the_shipped_ones():
    images, labels = F.load_digits()
    assert digest(images, labels) == "1eb274293a07a074"


@pytest.mark.parametrize("seed,fractions,sizes,expected", [
    (0, (0.6, 0.2, 0.2), (1079, 359, 359), ("ff4f26138493983c", "539b1c8a69ef2d4b", "d889131a82d7ccab")),
    (1, (0.7, 0.15, 0.15), (1259, 269, 269), ("b446c5627cf0bc2d", "fe06fe047eb16594", "b0f2a3f44379aa2d")),
])
def test_split_of_a_seed_is_pinned(seed, fractions, sizes, expected):
    _, labels = F.load_digits()
    parts = F.train_val_test_split(np.arange(labels.size), labels, fractions, np.random.default_rng(seed))
    assert tuple(len(idx) for idx, _ in parts) == sizes
    assert tuple(digest(idx) for idx, _ in parts) == expected
    for idx, y in parts:
        np.testing.assert_array_equal(y, labels[idx])


# ---------------------------------------------------------------------- training loop
class RowRecorder(F.Layer):
    """Passes its input through and records the first column (the row's index)."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, x):
        self.batches.append(x[:, 0].astype(int).tolist())
        return x

    def backward(self, grad_out, input_grad=True):
        return grad_out


def indexed_problem(m=10):
    rng = np.random.default_rng(3)
    X = np.column_stack([np.arange(m), rng.normal(size=m)])  # column 0 names the row
    Y = np.eye(2)[(X[:, 1] > 0).astype(int)]
    return X, Y


def test_fit_draws_one_permutation_per_epoch_and_cuts_consecutive_batches():
    X, Y = indexed_problem(10)
    recorder = RowRecorder()
    net = F.Sequential([recorder, F.Dense(2, 2, rng=np.random.default_rng(0))], loss="softmax_cross_entropy")
    history = net.fit(X, Y, epochs=3, batch_size=4, lr=0.1, rng=np.random.default_rng(7))
    twin = np.random.default_rng(7)
    expected = []
    for _ in range(3):
        order = twin.permutation(10).tolist()
        expected += [order[0:4], order[4:8], order[8:10]]  # the last batch holds the 2 left over
    assert recorder.batches == expected
    assert len(history["batch_loss"]) == 9 and len(history["loss"]) == 3


def test_fit_uses_the_generator_for_nothing_else():
    X, Y = indexed_problem(10)
    net = F.mlp([2, 3, 2], loss="softmax_cross_entropy", rng=np.random.default_rng(0))
    rng, twin = np.random.default_rng(11), np.random.default_rng(11)
    net.fit(X, Y, epochs=4, batch_size=3, lr=0.1, rng=rng)
    for _ in range(4):
        twin.permutation(10)
    assert rng.integers(0, 2**62) == twin.integers(0, 2**62)
    unshuffled = np.random.default_rng(11)
    net.fit(X, Y, epochs=2, batch_size=3, lr=0.1, rng=unshuffled, shuffle=False)
    assert unshuffled.integers(0, 2**62) == np.random.default_rng(11).integers(0, 2**62)


def test_fit_without_shuffle_visits_rows_in_order():
    X, Y = indexed_problem(7)
    recorder = RowRecorder()
    net = F.Sequential([recorder, F.Dense(2, 2, rng=np.random.default_rng(0))], loss="softmax_cross_entropy")
    net.fit(X, Y, epochs=2, batch_size=3, lr=0.1, rng=np.random.default_rng(0), shuffle=False)
    assert recorder.batches == [[0, 1, 2], [3, 4, 5], [6]] * 2


def test_history_is_the_objective_of_each_step_before_its_update():
    X, Y = indexed_problem(10)
    make = lambda: F.mlp([2, 3, 2], activation="tanh", loss="softmax_cross_entropy",
                         rng=np.random.default_rng(1))
    net, ref = make(), make()
    seen = []
    history = net.fit(X, Y, epochs=3, batch_size=4, lr=0.5, rng=np.random.default_rng(2),
                      weight_decay=1e-3, callback=lambda epoch, n: {"epoch": epoch, "W1": n.params()["W1"].copy()})
    assert set(history) == {"loss", "batch_loss", "epoch", "W1"}
    rng = np.random.default_rng(2)
    for epoch in range(3):
        batch_values = []
        for idx in F.minibatches(10, 4, rng):
            value = ref.loss(X[idx], Y[idx], weight_decay=1e-3)  # J before the step ...
            assert ref.train_step(X[idx], Y[idx], 0.5, 1e-3) == value  # ... is what it returns
            batch_values.append(value)
        seen += batch_values
        assert history["loss"][epoch] == np.mean(batch_values)
        np.testing.assert_array_equal(history["W1"][epoch], ref.params()["W1"])  # after the epoch
    assert history["batch_loss"] == seen and history["epoch"] == [0, 1, 2]
    assert all(isinstance(v, float) for v in history["loss"])


def test_fit_result_of_a_seed_is_pinned():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 2))
    Y = np.eye(2)[(X[:, 0] > 0).astype(int)]
    net = F.mlp([2, 3, 2], activation="tanh", loss="softmax_cross_entropy", rng=rng)
    hist = net.fit(X, Y, epochs=3, batch_size=4, lr=0.5, rng=rng, weight_decay=1e-3)
    assert digest(hist["loss"], hist["batch_loss"], *net.params().values()) == "5e601cc7131f6c64"


def test_objective_falls_on_a_simple_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    Y = np.eye(2)[(X[:, 0] + X[:, 1] > 0).astype(int)]  # linearly separable
    net = F.mlp([2, 4, 2], activation="tanh", loss="softmax_cross_entropy", rng=rng)
    history = net.fit(X, Y, epochs=30, batch_size=16, lr=0.5, rng=rng)
    assert all(b < a for a, b in zip(history["loss"][:5], history["loss"][1:6]))  # falls at first
    assert history["loss"][-1] < 0.25 * history["loss"][0]
    assert np.mean(net.predict(X).argmax(axis=1) == Y.argmax(axis=1)) > 0.95


# ---------------------------------------------------------------------- names
NOTEBOOK_NAMES = """mlp Sequential Dense Activation Conv2D Flatten Layer im2col col2im conv2d_forward
conv2d_backward conv2d_forward_loop conv2d_backward_loop conv2d_forward_fft conv_output_shape
check_network check_gradient numerical_gradient relative_error max_rel_error load_digits one_hot
train_val_test_split init_std init_weights sigmoid sigmoid_prime tanh tanh_prime relu relu_prime
leaky_relu leaky_relu_prime identity identity_prime softmax softmax_jacobian softmax_prime_diagonal
softmax_vjp get_activation mse binary_cross_entropy categorical_cross_entropy softmax_cross_entropy
sigmoid_cross_entropy get_loss fit train_step sgd_step backprop book losses shapecheck Value
check_proposed_gradient""".split()


def test_the_names_the_chapters_use_are_reachable():
    missing = [name for name in NOTEBOOK_NAMES if not hasattr(F, name)]
    assert not missing
    net = F.mlp([2, 3, 1], rng=np.random.default_rng(0))
    for method in ("forward", "backward", "trace", "params", "grads", "fit", "train_step", "sgd_step",
                   "gradients", "loss", "set_params", "initialize", "predict", "penalty"):
        assert callable(getattr(net, method)), method
    net.gradients(np.zeros((2, 2)), np.zeros((2, 1)))
    assert F.LayerTrace._fields == ("l", "a_prev", "z", "a", "delta", "dW", "db")
    assert F.losses.EPS == 1e-12 and callable(F.shapecheck.candidate_products)
