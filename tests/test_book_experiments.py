"""fcnn_lib.book.experiments: stacked training equals the library's own training, run by run.

Chapter 8 trains every configuration over seeds × folds with ``fit_stacked``; its
conclusions are only as good as the claim that run r of the stack is exactly
``nets[r].fit(...)``. These tests pin that claim bit for bit (``np.array_equal`` on
every parameter of every run) for every layer kind the chapter uses (dense ReLU, tanh
and sigmoid, softmax regression, convolution), with different training sets, weight
decays and mini-batch orders per run; they check the stacked convolution code and the
stacked loss gradient against the library's Conv2D and softmax_cross_entropy run by run,
and pin the folds and the summary helpers' arithmetic.
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
    """Bit for bit: every parameter array equal, entry by entry."""
    pa, pb = a.params(), b.params()
    assert pa.keys() == pb.keys()
    for k in pa:
        assert np.array_equal(pa[k], pb[k]), f"{k}: largest difference {np.max(np.abs(pa[k] - pb[k])):.3g}"


@pytest.mark.parametrize(
    "sizes, activation, init",
    [([64, 16, 10], "relu", "he"), ([64, 16, 10], "sigmoid", "normal"), ([64, 10], "relu", "xavier"),
     ([64, 12, 8, 10], "relu", "he"), ([64, 16, 10], "tanh", "xavier")],
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
            F.Flatten(), F.Dense(4 * 4 * 4, 6, rng=init_rng), F.Activation("tanh"), F.Dense(6, 10, rng=init_rng),
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
        (lambda kw: kw.update(nets=[F.mlp([4, 3, 2], activation="softmax", loss="softmax_cross_entropy",
                                          rng=np.random.default_rng(0))] * 2), "element-wise"),
        (lambda kw: kw.update(nets=[F.Sequential([F.Dense(4, 2, rng=np.random.default_rng(0)), F.Flatten()],
                                                 loss="softmax_cross_entropy")] * 2), "Flatten"),
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


def test_the_stacked_convolution_equals_the_librarys_conv2d_run_by_run(digits):
    """The one piece of stacked code of its own: forward logits and every gradient of a
    convolutional network, against Sequential (Conv2D, Activation, Flatten, Dense) per run."""
    images, labels = digits
    R, m = 3, 10
    rng = np.random.default_rng(5)
    nets = [F.Sequential([F.Conv2D(1, 2, 3, padding=1, rng=rng), F.Activation("relu"),
                          F.Conv2D(2, 3, 2, stride=2, rng=rng), F.Activation("tanh"),
                          F.Flatten(), F.Dense(3 * 4 * 4, 10, rng=rng)], loss="softmax_cross_entropy")
            for _ in range(R)]
    X = np.stack([images[r * m:(r + 1) * m, None] for r in range(R)])  # (R, m, 1, 8, 8)
    Y = np.stack([F.one_hot(labels[r * m:(r + 1) * m], 10) for r in range(R)])
    stack = E._Stack(nets)
    z, a, cache = stack.forward(X)
    grads = stack.gradients(stack.backward(E._loss_gradient(a[-1], Y), z, a, cache))
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]
    for r, net in enumerate(nets):
        assert np.array_equal(a[-1][r], net.forward(X[r]))
        net.backward(Y[r], input_grad=False)
        lib = net.grads()
        for name, g in zip(names, grads):
            assert np.array_equal(g[r], lib[name]), name


def test_the_stacked_loss_gradient_is_the_librarys_run_by_run():
    rng = np.random.default_rng(2)
    Z = rng.normal(scale=3.0, size=(5, 7, 4))
    Y = np.eye(4)[rng.integers(0, 4, size=(5, 7))]
    G = E._loss_gradient(Z, Y)
    values = E._loss_values(Z, Y)
    for r in range(5):
        lib = F.softmax_cross_entropy(Z[r], Y[r])
        assert np.array_equal(G[r], lib.grad) and values[r] == lib.value


def test_stratified_folds_partition_the_data_and_keep_the_classes():
    labels = np.repeat(np.arange(3), [10, 7, 5])
    folds = E.stratified_folds(labels, 4, np.random.default_rng(0))
    assert sorted(np.concatenate(folds).tolist()) == list(range(labels.size))  # every example once
    sizes = [f.size for f in folds]
    assert max(sizes) - min(sizes) <= 1
    counts = np.array([np.bincount(labels[f], minlength=3) for f in folds])
    assert np.all(counts.max(axis=0) - counts.min(axis=0) <= 1)
    again = E.stratified_folds(labels, 4, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(folds, again))
    even = E.stratified_folds(np.repeat(np.arange(4), 9), 4, np.random.default_rng(1))
    assert [f.size for f in even] == [9, 9, 9, 9]
    for bad, message in ((dict(n_folds=1), "n_folds"), (dict(n_folds=30), "n_folds"),
                         (dict(y=labels.astype(float)), "integer"), (dict(rng=0), "Generator")):
        kw = dict(y=labels, n_folds=3, rng=np.random.default_rng(0)) | bad
        with pytest.raises((ValueError, TypeError), match=message):
            E.stratified_folds(**kw)


def test_the_interval_uses_the_group_means():
    # two groups of two runs: group means 1 and 3, so mean 2, sd of the means sqrt(2),
    # t(0.975, 1) = 12.706...; half-width 12.706 * sqrt(2) / sqrt(2)
    c = E.Comparison("a", np.array([1.0, 1.0, 4.0, 2.0]), "b", np.zeros(4))
    mu, lo, hi = c.interval(np.array([0, 0, 1, 1]))
    assert mu == 2.0 and hi - mu == pytest.approx(12.7062047, rel=1e-7) and mu - lo == pytest.approx(hi - mu)
    with pytest.raises(ValueError, match="equal size"):
        c.interval(np.array([0, 0, 0, 1]))
    with pytest.raises(ValueError, match="one group per run"):
        c.interval(np.array([0, 1]))


def test_t_quantile_and_wilson_interval():
    for df, t in ((1, 12.7062047362), (2, 4.3026527297), (3, 3.1824463053), (19, 2.0930240544)):
        assert E.t_quantile(0.975, df) == pytest.approx(t, rel=1e-8)
    assert E.t_quantile(0.5, 4) == pytest.approx(0.0, abs=1e-9)
    lo, hi = E.wilson_interval(346, 359)
    p, z, n = 346 / 359, 1.959963984540054, 359  # the score interval solves |p - q| = z sqrt(q(1 - q)/n)
    for q in (lo, hi):
        assert abs(p - q) == pytest.approx(z * np.sqrt(q * (1 - q) / n), rel=1e-9)
    assert E.wilson_interval(0, 10)[0] == 0.0 and E.wilson_interval(10, 10)[1] == 1.0
    for bad in ((11, 10), (-1, 10), (3, 0)):
        with pytest.raises(ValueError):
            E.wilson_interval(*bad)


def test_one_blas_thread_sets_one_thread_and_restores_the_count():
    get, _ = E._blas_thread_controls()
    if get is None:
        pytest.skip("no OpenBLAS thread control found in this NumPy")
    before = get()
    with F.book.one_blas_thread():
        assert get() == 1
    assert get() == before


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


def test_format_table_states_means_paired_differences_and_intervals():
    results = {"ref": np.array([0.90, 0.92, 0.91, 0.95]), "new": np.array([0.93, 0.93, 0.95, 0.95])}
    text = E.format_table(results, "ref", np.array([0, 0, 1, 1]))
    lines = text.splitlines()
    assert "92.00 ± 2.16" in lines[1] and "94.00 ± 1.15" in lines[2]
    assert "over 4 runs" in lines[3] and lines[4].strip().startswith("mean (sd)")
    c = E.paired_summary(results, "ref")[0]
    _, lo, hi = c.interval(np.array([0, 0, 1, 1]))
    assert "+2.00 (1.83)" in lines[5] and f"[{100 * lo:+.2f}, {100 * hi:+.2f}]" in lines[5]
    assert lines[5].endswith("3  1  0")
    assert max(len(line) for line in lines) <= 64


def test_glue_comparison_returns_what_the_table_shows():
    c = E.Comparison("new", np.array([0.93, 0.93, 0.95, 0.95]), "ref", np.array([0.90, 0.92, 0.91, 0.95]))
    out = E.glue_comparison("ch08-test-new", c, np.array([0, 0, 1, 1]))
    assert set(out) == {"diff", "diff-sd", "lo", "hi", "higher", "equal", "lower"}
    assert out["diff"] == pytest.approx(2.0) and (out["higher"], out["equal"], out["lower"]) == (3, 1, 0)


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
                              "c": np.array([0.03, 0.02, 0.03, 0.04])}, "a")
    fig, ax = plt.subplots()
    E.plot_paired(ax, comps, np.array([0, 0, 1, 1]))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b\n− a", "c\n− a"]
    plt.close(fig)


def test_fit_stacked_restores_the_blas_thread_count(digits):
    get, _ = E._blas_thread_controls()
    if get is None:
        pytest.skip("no OpenBLAS thread control found in this NumPy")
    before = get()
    images, labels = digits
    X = images[:40].reshape(1, 40, -1)
    Y = F.one_hot(labels[:40], 10)[None]
    E.fit_stacked([F.mlp([64, 10], loss="softmax_cross_entropy", rng=np.random.default_rng(0))], X, Y,
                  epochs=1, batch_size=8, lr=0.1, order_rngs=[np.random.default_rng(1)])
    assert get() == before
