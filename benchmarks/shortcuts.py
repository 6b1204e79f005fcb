"""What each performance shortcut of the training step buys, measured side by side.

Usage (from the repository root)::

    .venv/bin/python benchmarks/shortcuts.py [--repeats 41] [--blas-threads 1] [--cpu-time] [--save]

The benchmark step of ``bench.py`` (784-256-128-10 ReLU, softmax cross-entropy, batch
256, float64) is timed as fcnn_lib runs it and with one thing changed at a time,
interleaved in one process; the table gives each variant's median time relative to
the library's step (above 1: the library is faster). Every variant computes the
same numbers (checked before timing).

Kept in the library (each variant takes one away):

- ``input_grad=False``: the first layer skips ∂J/∂X = G W (variant "with dX");
- NaN and inf are looked for where data enter and leave the network (the input X,
  the output, the objective, the parameters after the update; the activation
  functions check their inputs), and the layers check type and shape only (variant
  "every layer scans": each layer also scans its input and its gradient).

Left out of the library, for clarity (each variant adds one back):

- "bias in place": ``Z = X Wᵀ; Z += b`` instead of ``X Wᵀ + b``;
- "ReLU mask": the ReLU layer multiplies by the boolean z > 0 instead of calling
  ``relu_prime`` (which converts the mask to float64).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import fcnn_lib as F
import fcnn_lib._checks
import fcnn_lib.layers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import LR, RESULTS, dense_setup, interleaved, interpreter, machine, save  # noqa: E402


class BiasInPlace(F.Dense):
    def forward(self, x):
        x = self._check_input(x, 2, self.n_in, f"(m, {self.n_in})")
        self._x = x
        out = x @ self.W.T
        out += self.b
        return out


class ReluMask(F.Activation):
    def backward(self, grad_out, input_grad=True):
        G = self._check_grad_out(grad_out, self._z.shape)
        return G * (self._z > 0)


def scanning(x, name="input", **kwargs):
    """fcnn_lib's input check, scanning for NaN and inf whatever the caller asks."""
    return fcnn_lib._checks.as_float_array(x, name, **{**kwargs, "finite": True})


def variant_net(kind):
    net, X, Y = dense_setup()
    if kind == "bias in place":
        net.layers = [BiasInPlace(l.n_in, l.n_out, init="zeros") if isinstance(l, F.Dense) else l
                      for l in net.layers]
        ref, _, _ = dense_setup()
        net.set_params([(l.W, l.b) for l in ref.param_layers])
    if kind == "ReLU mask":
        net.layers = [ReluMask("relu") if isinstance(l, F.Activation) else l for l in net.layers]
    return net, X, Y


def step(kind):
    net, X, Y = variant_net(kind)

    def run():
        if kind == "every layer scans":
            saved = fcnn_lib.layers.as_float_array
            fcnn_lib.layers.as_float_array = scanning
            try:
                net.train_step(X, Y, LR)
            finally:
                fcnn_lib.layers.as_float_array = saved
        elif kind == "with dX":
            net.gradients(X, Y)
            net.sgd_step(LR)
        else:
            net.train_step(X, Y, LR)

    return net, run


KINDS = ["fcnn_lib", "with dX", "every layer scans", "bias in place", "ReLU mask"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=41)
    ap.add_argument("--blas-threads", type=int, default=None)
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with the process's CPU time (use with --blas-threads 1 on a busy machine)")
    ap.add_argument("--save", action="store_true", help=f"store the table in {RESULTS.name} under 'shortcuts'")
    args = ap.parse_args(argv)
    if args.blas_threads is not None and os.environ.get("OPENBLAS_NUM_THREADS") != str(args.blas_threads):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.blas_threads))
        sys.exit(subprocess.run([sys.executable, __file__, *argv], env=env).returncode)

    if args.cpu_time:
        bench.CLOCK = time.process_time
    nets, runs = {}, {}
    for kind in KINDS:
        nets[kind], runs[kind] = step(kind)
    for _ in range(3):  # the same numbers, step after step
        for run in runs.values():
            run()
    ref = nets["fcnn_lib"].params()
    for kind, net in nets.items():
        for name, p in net.params().items():
            assert p.tobytes() == ref[name].tobytes(), (kind, name)
    t = interleaved(runs, repeats=args.repeats, number=3)
    rows = [{"variant": kind, "time_ms": round(statistics.median(t[kind]) * 1e3, 3),
             "ratio": round(statistics.median(a / b for a, b in zip(t[kind], t["fcnn_lib"])), 3)}
            for kind in KINDS]
    clock = "CPU time of the process" if args.cpu_time else "wall time"
    result = {"machine": machine(), "rows": rows, "rounds": f"{args.repeats} rounds of 3 steps, {clock}",
              "command": interpreter() + " benchmarks/shortcuts.py" + "".join(" " + a for a in argv)}
    print(markdown(result))
    if args.save:
        save(result, "shortcuts", markdown)


def markdown(result):
    lines = [f"Command: `{result['command']}`; {result['rounds']}; machine: "
             + ", ".join(f"{k} {v}" for k, v in result["machine"] if k in ("CPU", "cores", "BLAS threads", "load average (1, 5, 15 min) at start")),
             "", "| variant | median time | time / fcnn_lib's step (paired median) |", "| --- | --- | --- |"]
    lines += [f"| {r['variant']} | {r['time_ms']:.2f} ms | {r['ratio']:.3f} |" for r in result["rows"]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
