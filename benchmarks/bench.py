"""Performance ratios of fcnn_lib, measured side by side in one process.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench.py          # ratios; about half a minute
    .venv/bin/python benchmarks/bench.py --full   # also times the site build and the tests
    .venv/bin/python benchmarks/bench.py --blas-threads 1   # BLAS on one thread

Every comparison runs its candidates in the same process, interleaved (A, B, A, B, …),
and reports the median of the repeats, so that a machine busy with other work slows
both sides alike. All arrays are float64 and every input comes from a seeded
``numpy.random.default_rng``. What is printed:

1. fcnn_lib's training step (forward, backward, SGD update; batch 256; a 784-256-128-10
   ReLU network with softmax cross-entropy) against its lower bound, the matrix
   products the step needs done alone in numpy: X Wᵀ for each layer, Gᵀ A for each
   weight gradient and G W for each layer but the first.
2. The same step against a per-example loop (the textbook form, one column vector at a
   time, written here), on the same network and batch.
3. The im2col convolution (forward, and backward) against the direct-loop reference of
   ``fcnn_lib.conv``, 8 → 16 channels, 3×3 kernels, padding 1, 28×28 images, batch 32.
   The loop reference runs on fewer images and is scaled per image.
4. Wall time of the site build and of the full test run, read from
   ``_build/timings.json`` (or measured with ``--full``).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent

import fcnn_lib as F  # noqa: E402

SEED = 0
BUILD_CMD = [str(ROOT / ".venv" / "bin" / "jupyter-book"), "build", "--all", ".", "-W", "-n", "--keep-going"]
TEST_CMD = [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-q"]
TIMINGS = ROOT / "_build" / "timings.json"


# ---------------------------------------------------------------------- timing
def interleaved(candidates, repeats, number=1):
    """Time the candidates in turn, ``repeats`` rounds; return per-call times per round.

    ``candidates``: dict name → zero-argument callable. Each is called once first
    (warm-up); then in every round each candidate runs ``number`` times in a row.
    Returns dict name → list of seconds per call, one entry per round, so that the
    entries of two candidates with the same index were measured moments apart.
    """
    for fn in candidates.values():
        fn()
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - t0) / number)
    return times


def median(ts):
    return statistics.median(ts)


def paired_ratio(times, a, b):
    """Median over rounds of time(a) / time(b): robust to load that changes between rounds."""
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


# ---------------------------------------------------------------------- machine
def blas_threads():
    """Threads OpenBLAS uses, asked from numpy's bundled library (None if unknown)."""
    import ctypes
    import glob

    libdir = pathlib.Path(np.__file__).parent.parent / "numpy.libs"
    for lib in sorted(glob.glob(str(libdir / "*openblas*"))):
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                     "openblas_get_num_threads"):
            fn = getattr(handle, name, None)
            if fn is not None:
                return int(fn())
    return None


def machine():
    """(label, value) rows describing this machine and its numerical libraries."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from threadpoolctl import threadpool_info  # used if present; never installed here

        blas = "; ".join(f"{i.get('internal_api')} {i.get('version')}"
                         for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        try:
            cfg = np.show_config(mode="dicts")
            dep = cfg["Build Dependencies"]["blas"]
            blas = f"{dep.get('name', '?')} {dep.get('version', '')}".strip()
        except Exception:  # older numpy: no dicts mode
            buf = io.StringIO()
            with redirect_stdout(buf):
                np.show_config()
            blas = " ".join(buf.getvalue().split())[:100]
    try:
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    rows = [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("load average (1, 5, 15 min) at start", load),
        ("Python", platform.python_version()),
        ("numpy", np.__version__),
        ("BLAS", blas),
        ("BLAS threads", "unknown" if blas_threads() is None else str(blas_threads())),
    ]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            rows.append((var, os.environ[var]))
    return rows


# ---------------------------------------------------------------------- 1 and 2: dense step
SIZES = [784, 256, 128, 10]
BATCH = 256
LR = 0.01


def dense_setup():
    rng = np.random.default_rng(SEED)
    net = F.mlp(SIZES, activation="relu", loss="softmax_cross_entropy", init="he", rng=rng)
    X = rng.normal(size=(BATCH, SIZES[0]))
    Y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], size=BATCH)]
    return net, X, Y


def relu_col(z):
    return np.maximum(z, 0.0)


def per_example_step(Ws, bs, X, Y, lr):
    """Textbook SGD step on a batch: one example at a time as a column vector.

    For each example: z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ (column vectors), ReLU hidden layers,
    softmax output; δ⁽ᴸ⁾ = (s − y)/m, δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ f'(z⁽ˡ⁾); the gradients
    δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ and δ⁽ˡ⁾ are summed over the examples; then W ← W − η dW.
    Returns the gradients (for the correctness check) after updating in place.
    """
    m = X.shape[0]
    dWs = [np.zeros_like(W) for W in Ws]
    dbs = [np.zeros_like(b) for b in bs]
    L = len(Ws)
    for i in range(m):
        a = X[i].reshape(-1, 1)
        acts, zs = [a], []
        for l in range(L):
            z = Ws[l] @ a + bs[l]
            zs.append(z)
            a = relu_col(z) if l < L - 1 else z
            acts.append(a)
        s = np.exp(a - a.max())
        s /= s.sum()
        delta = (s - Y[i].reshape(-1, 1)) / m
        for l in range(L - 1, -1, -1):
            dWs[l] += delta @ acts[l].T
            dbs[l] += delta
            if l > 0:
                delta = (Ws[l].T @ delta) * (zs[l - 1] > 0)
    for l in range(L):
        Ws[l] -= lr * dWs[l]
        bs[l] -= lr * dbs[l]
    return dWs, dbs


def bench_dense(repeats):
    net, X, Y = dense_setup()
    # Correctness first: the loop's gradients equal fcnn_lib's.
    ref = [(layer.W.copy(), layer.b.reshape(-1, 1).copy()) for layer in net.param_layers]
    net.gradients(X, Y)
    g = net.grads()
    dWs, dbs = per_example_step([W.copy() for W, _ in ref], [b.copy() for _, b in ref], X, Y, LR)
    err = max(max(F.relative_error(dWs[l], g[f"W{l + 1}"]) for l in range(3)),
              max(F.relative_error(dbs[l].ravel(), g[f"b{l + 1}"]) for l in range(3)))
    assert err < 1e-10, f"per-example loop disagrees with fcnn_lib: relative error {err:.1e}"

    # Inputs of the right shapes for the products alone (values from a real step).
    net.forward(X)
    net.backward(Y)
    outs, ograds = net.outputs, net.output_grads
    Ws = [layer.W for layer in net.param_layers]
    As = [outs[2], outs[4]]            # a(1), a(2): inputs of layers 2 and 3
    Gs = [ograds[1], ograds[3], ograds[5]]  # δ(1), δ(2), δ(3)

    def products():
        X @ Ws[0].T
        As[0] @ Ws[1].T
        As[1] @ Ws[2].T
        Gs[2].T @ As[1]
        Gs[2] @ Ws[2]
        Gs[1].T @ As[0]
        Gs[1] @ Ws[1]
        Gs[0].T @ X

    loop_W = [W.copy() for W, _ in ref]
    loop_b = [b.copy() for _, b in ref]
    step_net, _, _ = dense_setup()
    full_net, _, _ = dense_setup()

    def step():
        step_net.train_step(X, Y, LR)

    def step_with_dx():  # the same step, also computing ∂J/∂X of the first layer
        full_net.gradients(X, Y)
        full_net.sgd_step(LR)

    t = interleaved({"products": products, "step": step, "step+dX": step_with_dx},
                    repeats=repeats, number=3)
    t_loop = interleaved({"step": step, "loop": lambda: per_example_step(loop_W, loop_b, X, Y, LR)},
                         repeats=max(5, repeats // 2))
    return t, t_loop, err


# ---------------------------------------------------------------------- 3: convolution
CONV = dict(m=32, c_in=8, c_out=16, hw=28, k=3, padding=1)
LOOP_IMAGES = 2


def bench_conv(repeats):
    from fcnn_lib.conv import (conv2d_backward, conv2d_backward_loop, conv2d_forward,
                               conv2d_forward_loop, im2col)

    c = CONV
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(c["m"], c["c_in"], c["hw"], c["hw"]))
    W = rng.normal(size=(c["c_out"], c["c_in"], c["k"], c["k"])) * 0.1
    b = rng.normal(size=c["c_out"])
    G = rng.normal(size=(c["m"], c["c_out"], c["hw"], c["hw"]))  # padding 1 keeps 28×28
    p = c["padding"]
    xs, Gs = x[:LOOP_IMAGES], G[:LOOP_IMAGES]
    cols = im2col(x, c["k"], 1, p)

    # Correctness on the small batch: both methods agree.
    ef = F.relative_error(conv2d_forward(xs, W, b, padding=p), conv2d_forward_loop(xs, W, b, padding=p))
    fast, slow = conv2d_backward(xs, W, Gs, padding=p), conv2d_backward_loop(xs, W, Gs, padding=p)
    eb = max(F.relative_error(u, v) for u, v in zip(fast, slow))
    assert ef < 1e-12 and eb < 1e-12, (ef, eb)

    t = interleaved({
        "fwd": lambda: conv2d_forward(x, W, b, padding=p),
        "fwd_loop": lambda: conv2d_forward_loop(xs, W, b, padding=p),
        "bwd": lambda: conv2d_backward(x, W, G, padding=p),
        "bwd_cols": lambda: conv2d_backward(x, W, G, padding=p, cols=cols),
        "bwd_loop": lambda: conv2d_backward_loop(xs, W, Gs, padding=p),
    }, repeats=repeats)
    # Per image: the im2col versions ran on m images, the loops on LOOP_IMAGES.
    return {k: [v / (LOOP_IMAGES if "loop" in k else c["m"]) for v in ts] for k, ts in t.items()}, max(ef, eb)


# ---------------------------------------------------------------------- 4: build and tests
def run_timed(cmd):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, proc.returncode


def wall_times(full):
    """Seconds of the site build and the test run: measured (``--full``) or read from file."""
    if full:
        build_s, build_rc = run_timed(BUILD_CMD)
        test_s, test_rc = run_timed(TEST_CMD)
        return {"site_build_s": build_s, "site_build_rc": build_rc,
                "test_run_s": test_s, "test_run_rc": test_rc, "source": "measured now (--full)"}
    if TIMINGS.exists():
        try:
            data = json.loads(TIMINGS.read_text())
        except (OSError, ValueError):
            return None
        data.setdefault("source", f"read from {TIMINGS.name}")
        return data
    return None


# ---------------------------------------------------------------------- report
def ms(ts):
    return f"{median(ts) * 1e3:.2f} ms"


def verdict(ok):
    return "met" if ok else "NOT met"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true",
                    help="also time the site build and the full test run (minutes)")
    ap.add_argument("--repeats", type=int, default=31, help="rounds per comparison (median taken)")
    ap.add_argument("--blas-threads", type=int, default=None, metavar="N",
                    help="rerun the script with OPENBLAS_NUM_THREADS=N (default: leave the "
                         "environment as it is); useful on a machine shared with other work")
    args = ap.parse_args(argv)
    if args.blas_threads is not None and os.environ.get("OPENBLAS_NUM_THREADS") != str(args.blas_threads):
        # The thread count is read when numpy loads OpenBLAS, so start a fresh interpreter.
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.blas_threads))
        sys.exit(subprocess.run([sys.executable, __file__, *argv], env=env).returncode)
    t_start = time.perf_counter()

    print("# fcnn_lib benchmarks\n")
    print("| machine | |\n| --- | --- |")
    for k, v in machine():
        print(f"| {k} | {v} |")
    print(f"| command | `.venv/bin/python benchmarks/bench.py{''.join(' ' + a for a in argv)}` |\n")

    t, t_loop, err = bench_dense(args.repeats)
    try:
        conv, ce = bench_conv(max(5, args.repeats // 2))
    except ImportError as exc:
        conv, ce = None, f"not measured: {exc}"
    wt = wall_times(args.full)

    print("Ratios are medians over rounds of (time A / time B), A and B timed back to back;")
    print("times are medians too.\n")
    print("| # | A / B | time A | time B | ratio | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    r = paired_ratio(t, "step", "products")
    print(f"| 1 | fcnn_lib training step (`train_step`: forward, backward, SGD update) / the "
          f"step's matrix products alone in numpy; 784-256-128-10 ReLU, softmax "
          f"cross-entropy, batch {BATCH} | {ms(t['step'])} | {ms(t['products'])} | {r:.2f}× "
          f"| ≤ 1.30×: {verdict(r <= 1.3)} |")
    r = paired_ratio(t, "step+dX", "products")
    print(f"| 1b | the same step also computing ∂J/∂X of layer 1 (`gradients` + `sgd_step`) "
          f"/ the products alone | {ms(t['step+dX'])} | {ms(t['products'])} | {r:.2f}× | — |")
    r = paired_ratio(t_loop, "loop", "step")
    print(f"| 2 | per-example loop (one column vector at a time) / vectorised `train_step`, "
          f"same network and batch | {ms(t_loop['loop'])} | {ms(t_loop['step'])} | {r:.1f}× | — |")
    if conv is not None:
        what = (f"{CONV['c_in']} → {CONV['c_out']} channels, 3×3 kernels, padding 1, 28×28 "
                f"images, batch {CONV['m']}; loop timed on {LOOP_IMAGES} images; times per image")
        r = paired_ratio(conv, "fwd_loop", "fwd")
        print(f"| 3a | convolution forward: direct loop / im2col ({what}) "
              f"| {ms(conv['fwd_loop'])} | {ms(conv['fwd'])} | {r:.0f}× | ≥ 100×: {verdict(r >= 100)} |")
        r = paired_ratio(conv, "bwd_loop", "bwd_cols")
        print(f"| 3b | convolution backward: direct loop / im2col with the patch matrix kept "
              f"from the forward pass (as `Conv2D` does) | {ms(conv['bwd_loop'])} "
              f"| {ms(conv['bwd_cols'])} | {r:.0f}× | ≥ 100×: {verdict(r >= 100)} |")
        r = paired_ratio(conv, "bwd_loop", "bwd")
        print(f"| 3c | convolution backward: direct loop / im2col recomputing the patch "
              f"matrix | {ms(conv['bwd_loop'])} | {ms(conv['bwd'])} | {r:.0f}× "
              f"| ≥ 100×: {verdict(r >= 100)} |")
    else:
        print(f"| 3 | convolution | {ce} | | | |")
    print("\n| wall time | |\n| --- | --- |")
    for key, name in (("site_build_s", "site build (`jupyter-book build --all . -W -n --keep-going`)"),
                      ("test_run_s", "full test run (`.venv/bin/python -m pytest`)")):
        v = None if wt is None else wt.get(key)
        if isinstance(v, (int, float)):
            rc = wt.get(key[:-2] + "_rc")
            extra = "" if rc in (None, 0) else f", exit code {rc}"
            print(f"| {name} | {v:.0f} s ({wt['source']}{extra}) |")
        else:
            print(f"| {name} | not measured yet (run the README test command) |")
    checks = f"per-example loop vs fcnn_lib gradients: relative error {err:.1e}"
    if conv is not None:
        checks += f"; im2col vs loop convolution (forward and backward): {ce:.1e}"
    print(f"\nCorrectness checks before timing: {checks}.")
    print(f"Rounds: {args.repeats} (dense step), {max(5, args.repeats // 2)} (loop, convolution). "
          f"Script run time: {time.perf_counter() - t_start:.0f} s.")


if __name__ == "__main__":
    main()
