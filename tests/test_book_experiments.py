"""fcnn_lib.book.experiments: stacked training equals the library's own training, run by run.

Chapter 8 trains every configuration over seeds × splits with ``fit_stacked``; its
conclusions are only as good as the claim that run r of the stack is exactly
``nets[r].fit(...)``. These tests pin that claim for every layer kind the chapter uses
(dense ReLU and sigmoid, softmax regression, convolution), with different training sets,
weight decays and mini-batch orders per run, and pin the summary helpers' arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest

import fcnn_lib as F
from fcnn_lib.book import experiments as E


@pytest.fixture(scope="module")
def digits():
    images, labels = F.load_digits()
    return images, labels


def _runs(images, labels, n_runs, m):
    """n_runs different training subsets of size m (one per run) and a validation set."""
    rng = np.random.default_rng(123)
    idx = np.stack([rng.choice(images.shape[0], size=m, replace=False) for _ in range(n_runs)])
    val = np.arange(100)
    return images[idx], labels[idx], np.stack([images[val]] * n_runs), np.stack([labels[val]] * n_runs)


def _assert_same_params(a, b):
    pa, pb = a.params(), b.params()
    assert pa.keys() == pb.keys()
    for k in pa:
        np.testing.assert_allclose(pa[k], pb[k], rtol=0, atol=1e-12, err_msg=k)


@pytest.mark.parametrize(
    "sizes, activation, init",
    [([64, 16, 10], "relu", "he"), ([64, 16, 10], "sigmoid", "normal"), ([64, 10], "relu", "xavier"),
     ([64, 12, 8, 10], "relu", "he")],
)
def test_fit_stacked_equals_fit_run_by_run(digits, sizes, activation, init):
    images, labels = digits
    R, m = 3, 150
    imgs, ys, vimgs, vys = _runs(images, labels, R, m)
    X = imgs.reshape(R, m, -1)
    Y = np.stack([F.one_hot(y, 10) for y in ys])
    Xv = vimgs.reshape(R, vimgs.shape[1], -1)
    lam = np.array([0.0, 1e-3, 1e-2])

    def build(seed):
        init_rng, order_rng = E.run_generators(seed)
        net = F.mlp(sizes, activation=activation, init=init, loss="softmax_cross_entropy", rng=init_rng)
        return net, order_rng

    stacked, rngs = zip(*(build(s) for s in range(R)))
    hist = E.fit_stacked(stacked, X, Y, epochs=4, batch_size=32, lr=0.3, order_rngs=rngs, weight_decay=lam,
                         evaluate={"val": (Xv, vys)}, record_loss=True)
    for r in range(R):
        ref, order_rng = build(r)
        h = ref.fit(X[r], Y[r], epochs=4, batch_size=32, lr=0.3, rng=order_rng, weight_decay=lam[r],
                    callback=lambda e, n: {"val": float(np.mean(n.predict(Xv[r]).argmax(1) == vys[r]))})
        _assert_same_params(stacked[r], ref)
        np.testing.assert_array_equal(hist["val"][r], h["val"])
        np.testing.assert_allclose(hist["loss"][r], h["loss"], rtol=1e-12)


def test_fit_stacked_equals_fit_for_a_convolutional_network(digits):
    images, labels = digits
    R, m = 2, 64
    imgs, ys, vimgs, vys = _runs(images, labels, R, m)
    X = imgs[:, :, None]  # (R, m, 1, 8, 8)
    Y = np.stack([F.one_hot(y, 10) for y in ys])

    def build(seed):
        init_rng, order_rng = E.run_generators(seed)
        net = F.Sequential([
            F.Conv2D(1, 3, 3, padding=1, rng=init_rng), F.Activation("relu"),
            F.Conv2D(3, 4, 3, stride=2, padding=1, rng=init_rng), F.Activation("sigmoid"),
            F.Flatten(), F.Dense(4 * 4 * 4, 10, rng=init_rng),
        ], loss="softmax_cross_entropy")
        return net, order_rng

    stacked, rngs = zip(*(build(s) for s in range(R)))
    hist = E.fit_stacked(stacked, X, Y, epochs=2, batch_size=16, lr=0.2, order_rngs=rngs, weight_decay=1e-3,
                         evaluate={"val": (vimgs[:, :, None], vys)})
    for r in range(R):
        ref, order_rng = build(r)
        ref.fit(X[r], Y[r], epochs=2, batch_size=16, lr=0.2, rng=order_rng, weight_decay=1e-3)
        _assert_same_params(stacked[r], ref)
        assert hist["val"][r, -1] == np.mean(ref.predict(vimgs[r][:, None]).argmax(1) == vys[r])


def test_run_generators_are_reproducible_and_independent():
    a_init, a_order = E.run_generators(7)
    b_init, b_order = E.run_generators(7)
    x, y = a_init.standard_normal(5), a_order.standard_normal(5)
    np.testing.assert_array_equal(x, b_init.standard_normal(5))
    np.testing.assert_array_equal(y, b_order.standard_normal(5))
    assert not np.allclose(x, y)
    assert not np.allclose(E.run_generators(8)[0].standard_normal(5), x)


def _small_nets(n, sizes=(4, 3, 2)):
    return [F.mlp(list(sizes), activation="relu", loss="softmax_cross_entropy", rng=np.random.default_rng(i))
            for i in range(n)]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda kw: kw.update(nets=_small_nets(1) + _small_nets(1, (4, 5, 2))), "same architecture"),
        (lambda kw: kw.update(nets=[F.mlp([4, 2], loss="mse", rng=np.random.default_rng(0))] * 2), "softmax_cross_entropy"),
        (lambda kw: kw.update(nets=[F.mlp([4, 3, 2], activation="tanh", loss="softmax_cross_entropy",
                                          rng=np.random.default_rng(0))] * 2), "supports"),
        (lambda kw: kw.update(X=np.zeros((3, 6, 4))), "R = 2"),
        (lambda kw: kw.update(order_rngs=[np.random.default_rng(0)]), "one order generator per run"),
        (lambda kw: kw.update(order_rngs=[0, 1]), "Generator"),
        (lambda kw: kw.update(weight_decay=-1.0), "weight_decay"),
        (lambda kw: kw.update(epochs=0), "epochs"),
        (lambda kw: kw.update(batch_size=1.5), "batch_size"),
        (lambda kw: kw.update(lr=float("nan")), "learning rate"),
        (lambda kw: kw.update(evaluate={"v": (np.zeros((2, 5, 4)), np.zeros((2, 4), dtype=int))}), "labels"),
        (lambda kw: kw.update(nets=[]), "at least one network"),
    ],
)
def test_fit_stacked_refuses_bad_input(change, message):
    kw = dict(nets=_small_nets(2), X=np.zeros((2, 6, 4)), Y=np.tile(np.eye(2)[[0, 1, 0, 1, 0, 1]], (2, 1, 1)),
              epochs=1, batch_size=2, lr=0.1, order_rngs=[np.random.default_rng(0), np.random.default_rng(1)])
    change(kw)
    with pytest.raises((ValueError, TypeError), match=message):
        E.fit_stacked(**kw)


def test_run_generators_refuse_bad_seeds():
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="seed"):
            E.run_generators(bad)


def test_mean_sd_and_paired_summary():
    mu, sd = E.mean_sd([1.0, 2.0, 3.0, 4.0])
    assert mu == 2.5 and sd == pytest.approx(np.sqrt(5.0 / 3.0))  # n − 1 in the denominator
    with pytest.raises(ValueError, match="at least 2"):
        E.mean_sd([1.0])
    results = {"a": np.array([0.9, 0.8, 0.7]), "b": np.array([0.95, 0.8, 0.6])}
    (c,) = E.paired_summary(results, "a")
    np.testing.assert_allclose(c.diff, [0.05, 0.0, -0.1])
    assert (c.wins, c.ties, c.losses) == (1, 1, 1)
    with pytest.raises(ValueError, match="reference"):
        E.paired_summary(results, "c")
    with pytest.raises(ValueError, match="results"):
        E.paired_summary({"a": np.zeros(3), "b": np.zeros(4)}, "a")


def test_format_table_states_means_and_paired_differences():
    text = E.format_table({"ref": np.array([0.90, 0.92]), "new": np.array([0.93, 0.93])}, "ref")
    lines = text.splitlines()
    assert "91.00 ± 1.41" in lines[1] and "reference" in lines[1]
    assert "93.00 ± 0.00" in lines[2] and "+2.00 ± 1.41" in lines[2] and lines[2].endswith("2   0   0")
    assert "over 2 runs" in lines[3]
    assert max(len(line) for line in lines) <= 64


def test_binomial_standard_error():
    assert E.binomial_se(0.97, 359) == pytest.approx(np.sqrt(0.97 * 0.03 / 359))
    assert E.binomial_se(0.97, 359) == pytest.approx(0.009, abs=5e-4)
    for p, n in ((1.5, 10), (0.5, 0), (0.5, 2.5)):
        with pytest.raises(ValueError):
            E.binomial_se(p, n)


def test_plot_paired_draws_one_row_per_comparison():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comps = E.paired_summary({"a": np.zeros(4), "b": np.array([0.01, 0.0, 0.02, -0.01]),
                              "c": np.full(4, 0.03)}, "a")
    fig, ax = plt.subplots()
    E.plot_paired(ax, comps)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b\n− a", "c\n− a"]
    plt.close(fig)


def test_fit_stacked_restores_the_blas_thread_count(digits):
    guard = E._OneBlasThread()
    if guard._get is None:
        pytest.skip("no OpenBLAS thread control found in this NumPy")
    before = guard._get()
    images, labels = digits
    X = images[:40].reshape(1, 40, -1)
    Y = F.one_hot(labels[:40], 10)[None]
    E.fit_stacked([F.mlp([64, 10], loss="softmax_cross_entropy", rng=np.random.default_rng(0))], X, Y,
                  epochs=1, batch_size=8, lr=0.1, order_rngs=[np.random.default_rng(1)])
    assert guard._get() == before


@pytest.mark.parametrize("activation, init", [("relu", "he"), ("sigmoid", "normal")])
def test_gradients_stacked_equal_the_library_gradients(digits, activation, init):
    images, labels = digits
    R, m = 3, 50
    imgs, ys, _, _ = _runs(images, labels, R, m)
    X, Y = imgs.reshape(R, m, -1), np.stack([F.one_hot(y, 10) for y in ys])
    nets = [F.mlp([64, 12, 10], activation=activation, init=init, loss="softmax_cross_entropy",
                  rng=np.random.default_rng(r)) for r in range(R)]
    stacked = E.gradients_stacked(nets, X, Y)
    for r, net in enumerate(nets):
        _, ref = net.gradients(X[r], Y[r])
        assert stacked[r].keys() == ref.keys()
        for k in ref:
            np.testing.assert_allclose(stacked[r][k], ref[k], rtol=0, atol=1e-14, err_msg=k)
