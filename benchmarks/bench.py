"""Performance ratios of fcnn_lib, measured side by side in one process.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench.py                     # ratios; about a minute
    .venv/bin/python benchmarks/bench.py --blas-threads 1    # BLAS (and PyTorch) on one thread
    .venv/bin/python benchmarks/bench.py --blas-threads 1 --cpu-time   # on a busy machine
    .venv/bin/python benchmarks/bench.py --save              # also store benchmarks/results.json
    .venv/bin/python benchmarks/bench.py --full              # also time the site build and tests

PyTorch is used if it can be imported (it is not a dependency of the course); to
measure it, run the script with an interpreter that has both torch and numpy and put
the repository on the path, e.g. ``PYTHONPATH=. /tmp/torchvenv/bin/python
benchmarks/bench.py``.

Every comparison runs its candidates in the same process, interleaved (A, B, A, B, …),
and reports the median of the repeats, so that a machine busy with other work slows
both sides alike. All arrays are float64 and every input comes from a seeded
``numpy.random.default_rng``; before timing, the script checks that every way of
computing the gradients agrees. The rows:

1. fcnn_lib's training step (forward, backward, SGD update; batch 256; a 784-256-128-10
   ReLU network with softmax cross-entropy) against its lower bound, the matrix
   products the step needs done alone in numpy: X Wᵀ for each layer, Gᵀ A for each
   weight gradient and G W for each layer but the first. 1b: the same step computing
   ∂J/∂X of the first layer too (what ``input_grad=False`` saves); 1c: the step written
   with ``fcnn_lib.backprop``; 1d, 1e: fcnn_lib's step against the same step in
   PyTorch (CPU, float64), idiomatic and lean.
2. The per-example loop (``fcnn_lib.backprop`` on one example at a time) against the
   vectorised step, on the same network and batch.
3. The im2col convolution (forward, and backward) against the direct-loop reference of
   ``fcnn_lib.conv``, 8 → 16 channels, 3×3 kernels, padding 1, 28×28 images, batch 32.
   The loop reference runs on fewer images and is scaled per image.
4. Wall time of the site build and of the full test run, read from
   ``_build/timings.json`` if the test run wrote it (or measured with ``--full``).
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
#: The clock: wall time by default; CPU time of this process with ``--cpu-time`` (with
#: BLAS on one thread, far less sensitive to other work on a busy machine).
CLOCK = time.perf_counter


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
            t0 = CLOCK()
            for _ in range(number):
                fn()
            times[name].append((CLOCK() - t0) / number)
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
#: Targets of the rows, stated once here and written to the results file.
TARGETS = {"step_over_products": 1.3, "step_over_torch": 1.0, "conv_speedup": 100}


def dense_setup():
    rng = np.random.default_rng(SEED)
    net = F.mlp(SIZES, activation="relu", loss="softmax_cross_entropy", init="he", rng=rng)
    X = rng.normal(size=(BATCH, SIZES[0]))
    Y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], size=BATCH)]
    return net, X, Y


def book_lists(net):
    """The network's parameters and activations as fcnn_lib.backprop's lists (index l)."""
    W = [None] + [layer.W.copy() for layer in net.param_layers]
    b = [None] + [layer.b.copy() for layer in net.param_layers]
    L = len(W) - 1
    f = [None] + [F.relu] * (L - 1) + [F.identity]
    f_prime = [None] + [F.relu_prime] * (L - 1) + [F.identity_prime]
    return W, b, f, f_prime


def backprop_step(W, b, f, f_prime, X, Y, lr):
    """A training step written with fcnn_lib.backprop, the δ recursion in one place.

    Forward, then δ⁽ᴸ⁾ from the fused softmax cross-entropy, whose gradient with
    respect to the logits z⁽ᴸ⁾ = a⁽ᴸ⁾ (identity output) is (softmax(z⁽ᴸ⁾) − y)/m
    (book equation ``eq-bp1-softmax-ce``), then BP1–BP4 and the update W ← W − η dW.
    Returns (dW, db); updates W and b in place (they are the benchmark's own copies).
    """
    L = len(W) - 1
    z, a = F.backprop.forward(W, b, X, f)
    _, dJ_dz = F.softmax_cross_entropy(a[L], Y)
    _, dW, db = F.backprop.backward(W, z, a, dJ_dz, f_prime)
    for l in range(1, L + 1):
        W[l] -= lr * dW[l]
        b[l] -= lr * db[l]
    return dW, db


def per_example_step(W, b, f, f_prime, X, Y, lr):
    """The textbook form: the same step with one example at a time (row s of the batch).

    For each example, fcnn_lib.backprop on a batch of one; the gradients are summed
    over the examples (each carries the batch's 1/m), then the update.
    """
    m, L = X.shape[0], len(W) - 1
    dW = [None] + [np.zeros_like(W[l]) for l in range(1, L + 1)]
    db = [None] + [np.zeros_like(b[l]) for l in range(1, L + 1)]
    for s in range(m):
        z, a = F.backprop.forward(W, b, X[s:s + 1], f)
        dJ_dz = (F.softmax(a[L]) - Y[s:s + 1]) / m
        _, dW_s, db_s = F.backprop.backward(W, z, a, dJ_dz, f_prime)
        for l in range(1, L + 1):
            dW[l] += dW_s[l]
            db[l] += db_s[l]
    for l in range(1, L + 1):
        W[l] -= lr * dW[l]
        b[l] -= lr * db[l]
    return dW, db


def torch_steps(net, X, Y, threads):
    """The same training step in PyTorch (CPU, float64), or None if torch is not installed.

    Two forms, both starting from fcnn_lib's initial parameters: the idiomatic one
    (``nn.Sequential`` of Linear and ReLU, ``cross_entropy``, ``optim.SGD``) and a lean
    one (functional calls, ``torch.autograd.grad``, in-place update). Returns
    (steps, gradients of the first form's first call, torch version).
    """
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads or torch.get_num_threads())
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(Y.argmax(axis=1))
    layers = net.param_layers

    model = torch.nn.Sequential(*[m for layer, last in zip(layers, [False] * (len(layers) - 1) + [True])
                                  for m in ([torch.nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)]
                                            + ([] if last else [torch.nn.ReLU()]))])
    with torch.no_grad():
        for lin, layer in zip([m for m in model if isinstance(m, torch.nn.Linear)], layers):
            lin.weight.copy_(torch.from_numpy(layer.W))
            lin.bias.copy_(torch.from_numpy(layer.b))
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def idiomatic():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()
        return loss

    params = [torch.tensor(a, requires_grad=True) for layer in layers for a in (layer.W, layer.b)]

    def lean():
        h = Xt
        for i in range(len(layers)):
            h = torch.nn.functional.linear(h, params[2 * i], params[2 * i + 1])
            if i < len(layers) - 1:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, yt)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(LR * g)
        return loss

    # Gradients of the first step, for the correctness check against fcnn_lib.
    opt.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(Xt), yt).backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    opt.zero_grad(set_to_none=True)
    return {"torch": idiomatic, "torch_lean": lean}, grads, f"{torch.__version__} ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''})"


def bench_dense(repeats, threads):
    net, X, Y = dense_setup()
    W, b, f, f_prime = book_lists(net)
    # Correctness first: every way of computing the step's gradients agrees.
    net.gradients(X, Y)
    g = net.grads()
    lib = [g[f"{k}{l}"] for l in range(1, 4) for k in "Wb"]
    dW, db = per_example_step([w.copy() if w is not None else None for w in W],
                              [c.copy() if c is not None else None for c in b], f, f_prime, X, Y, LR)
    errors = {"per-example fcnn_lib.backprop": max(F.relative_error(u, v) for u, v in
                                                   zip([a for l in range(1, 4) for a in (dW[l], db[l])], lib))}
    dW, db = backprop_step([w.copy() if w is not None else None for w in W],
                           [c.copy() if c is not None else None for c in b], f, f_prime, X, Y, LR)
    errors["fcnn_lib.backprop"] = max(F.relative_error(u, v) for u, v in
                                      zip([a for l in range(1, 4) for a in (dW[l], db[l])], lib))
    torch = torch_steps(dense_setup()[0], X, Y, threads)
    if torch is not None:
        steps, grads, torch_version = torch
        errors["PyTorch autograd"] = max(F.relative_error(u, v) for u, v in zip(grads, lib))
    for what, err in errors.items():
        assert err < 1e-10, f"{what} disagrees with fcnn_lib: relative error {err:.1e}"

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

    step_net, _, _ = dense_setup()
    full_net, _, _ = dense_setup()
    bp = book_lists(dense_setup()[0])
    loop = book_lists(dense_setup()[0])

    candidates = {
        "products": products,
        "step": lambda: step_net.train_step(X, Y, LR),
        # the same step, also computing ∂J/∂X of the first layer
        "step+dX": lambda: (full_net.gradients(X, Y), full_net.sgd_step(LR)),
        "backprop": lambda: backprop_step(*bp, X, Y, LR),
    }
    if torch is not None:
        candidates.update(steps)
    t = interleaved(candidates, repeats=repeats, number=3)
    t_loop = interleaved({"step": candidates["step"], "loop": lambda: per_example_step(*loop, X, Y, LR)},
                         repeats=max(5, repeats // 4))
    return t, t_loop, errors, (None if torch is None else torch_version)


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
RESULTS = ROOT / "benchmarks" / "results.json"


def ms(seconds):
    return round(seconds * 1e3, 3)


def row(key, what, times, a, b, target=None, at_most=True):
    """One comparison: time A / time B (medians over rounds) and its target, as a dict."""
    ratio = paired_ratio(times, a, b)
    met = None if target is None else (ratio <= target if at_most else ratio >= target)
    return {"row": key, "what": what, "time_a_ms": ms(median(times[a])),
            "time_b_ms": ms(median(times[b])), "ratio": round(ratio, 3),
            "target": None if target is None else {"at_most" if at_most else "at_least": target},
            "met": met}


def rows(t, t_loop, conv):
    out = [
        row("1", "fcnn_lib training step (`train_step`: forward, backward, SGD update) / the "
            "step's matrix products alone in numpy", t, "step", "products",
            TARGETS["step_over_products"]),
        row("1b", "the same step also computing ∂J/∂X of layer 1 (`gradients` + `sgd_step`) "
            "/ the products alone", t, "step+dX", "products"),
        row("1c", "the same step written with `fcnn_lib.backprop` (the δ recursion in one "
            "place) / the products alone", t, "backprop", "products"),
    ]
    if "torch" in t:
        out += [
            row("1d", "fcnn_lib `train_step` / the same step in PyTorch (`nn.Sequential`, "
                "`cross_entropy`, `optim.SGD`)", t, "step", "torch", TARGETS["step_over_torch"]),
            row("1e", "fcnn_lib `train_step` / the same step in lean PyTorch (functional calls, "
                "`autograd.grad`, in-place update)", t, "step", "torch_lean",
                TARGETS["step_over_torch"]),
        ]
    out.append(row("2", "per-example loop (`fcnn_lib.backprop` on one example at a time) / "
                   "vectorised `train_step`", t_loop, "loop", "step"))
    if conv is not None:
        target = TARGETS["conv_speedup"]
        out += [
            row("3a", "convolution forward: direct loop / im2col", conv, "fwd_loop", "fwd",
                target, at_most=False),
            row("3b", "convolution backward: direct loop / im2col with the patch matrix kept "
                "from the forward pass (as `Conv2D` does)", conv, "bwd_loop", "bwd_cols",
                target, at_most=False),
            row("3c", "convolution backward: direct loop / im2col recomputing the patch matrix",
                conv, "bwd_loop", "bwd", target, at_most=False),
        ]
    return out


def markdown(result):
    """The result as Markdown tables (what the script prints)."""
    lines = ["| machine | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in result["machine"]]
    lines += [f"| command | `{result['command']}` |", ""]
    lines += ["| # | A / B | time A | time B | ratio | target |", "| --- | --- | --- | --- | --- | --- |"]
    for r in result["rows"]:
        target = "—"
        if r["target"]:
            (kind, value), = r["target"].items()
            sign = "≤" if kind == "at_most" else "≥"
            target = f"{sign} {value}×: {'met' if r['met'] else 'NOT met'}"
        digits = 2 if r["ratio"] < 10 else 1 if r["ratio"] < 100 else 0
        lines.append(f"| {r['row']} | {r['what']} | {r['time_a_ms']:.2f} ms | {r['time_b_ms']:.2f} ms "
                     f"| {r['ratio']:.{digits}f}× | {target} |")
    lines += ["", f"Setting: {result['setting']}", "",
              "Correctness checks before timing (largest relative error against fcnn_lib's "
              "gradients): " + "; ".join(f"{k} {v:.1e}" for k, v in result["checks"].items()) + ".",
              f"Rounds: {result['rounds']}. Script run time: {result['run_time_s']:.0f} s."]
    wt = result.get("wall_times")
    if wt:
        lines += ["", "| wall time | |", "| --- | --- |"]
        lines += [f"| {name} | {seconds:.0f} s |" for name, seconds in wt.items()]
    return "\n".join(lines)


def interpreter():
    """How this script was started: the project's .venv, or another Python with the
    repository on its path (e.g. one that has PyTorch)."""
    exe = pathlib.Path(sys.executable)
    if exe.absolute().is_relative_to(ROOT / ".venv"):
        return ".venv/bin/python"
    return f"PYTHONPATH=. {exe}"


def save(result, key, render=None):
    """Store ``result`` (with its Markdown, from ``render``, default :func:`markdown`)
    under ``key`` in benchmarks/results.json; other keys are kept."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[key] = dict(result, markdown=(render or markdown)(result))
    RESULTS.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true",
                    help="also time the site build and the full test run (minutes)")
    ap.add_argument("--repeats", type=int, default=31, help="rounds per comparison (median taken)")
    ap.add_argument("--blas-threads", type=int, default=None, metavar="N",
                    help="rerun the script with OPENBLAS_NUM_THREADS=N and PyTorch on N threads "
                         "(default: leave the environment as it is)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with the process's CPU time instead of wall time: with "
                         "--blas-threads 1, far less sensitive to other work on the machine")
    ap.add_argument("--save", action="store_true",
                    help=f"store the result in {RESULTS.relative_to(ROOT)} (read by the book's "
                         f"benchmarks page), under 'default' or 'blas_threads_N'")
    args = ap.parse_args(argv)
    if args.blas_threads is not None and os.environ.get("OPENBLAS_NUM_THREADS") != str(args.blas_threads):
        # The thread count is read when numpy loads OpenBLAS, so start a fresh interpreter.
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.blas_threads))
        sys.exit(subprocess.run([sys.executable, __file__, *argv], env=env).returncode)
    t_start = time.perf_counter()
    if args.cpu_time:
        globals()["CLOCK"] = time.process_time  # the clock interleaved() reads
    machine_rows = machine()
    machine_rows.append(("clock", "CPU time of the process (--cpu-time)" if args.cpu_time else "wall time"))

    t, t_loop, checks, torch_version = bench_dense(args.repeats, args.blas_threads)
    machine_rows.append(("PyTorch", torch_version or "not installed: rows 1d and 1e not measured"))
    try:
        conv, ce = bench_conv(max(5, args.repeats // 2))
        checks["im2col vs loop convolution (forward and backward)"] = ce
    except ImportError as exc:
        conv = None
        checks[f"convolution not measured: {exc}"] = float("nan")
    wt = wall_times(args.full)
    wall = {}
    if wt:
        for key, name in (("site_build_s", "site build (`jupyter-book build --all . -W -n --keep-going`)"),
                          ("test_run_s", "full test run (`.venv/bin/python -m pytest`)")):
            if isinstance(wt.get(key), (int, float)):
                wall[name] = wt[key]
    result = {
        "machine": machine_rows,
        "command": interpreter() + " benchmarks/bench.py" + "".join(" " + a for a in argv),
        "setting": (f"784-256-128-10 ReLU network, softmax cross-entropy, batch {BATCH}, float64 "
                    f"(rows 1–2); convolution {CONV['c_in']} → {CONV['c_out']} channels, "
                    f"{CONV['k']}×{CONV['k']} kernels, padding {CONV['padding']}, {CONV['hw']}×"
                    f"{CONV['hw']} images, batch {CONV['m']}, the loops timed on {LOOP_IMAGES} "
                    f"images and all times per image (rows 3a–3c). Ratios are medians over rounds "
                    f"of (time A / time B), A and B timed back to back; times are medians too."),
        "rows": rows(t, t_loop, conv),
        "targets": TARGETS,
        "checks": checks,
        "rounds": f"{args.repeats} (dense step), {max(5, args.repeats // 4)} (per-example loop), "
                  f"{max(5, args.repeats // 2)} (convolution)",
        "run_time_s": round(time.perf_counter() - t_start, 1),
        "wall_times": wall,
    }
    print("# fcnn_lib benchmarks\n")
    print(markdown(result))
    if args.save:
        key = "default" if args.blas_threads is None else f"blas_threads_{args.blas_threads}"
        save(result, key)
        print(f"\nSaved as {key!r} in {RESULTS.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
