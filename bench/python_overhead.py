#!/usr/bin/env python3
"""Cost of the Python package over the C++ call it wraps (issue 12: model.solve() <= 1.2x the C++ solve).

For the Zhang model (examples/zhang2025/two_qubits.toml) and each method, times in one process:
  C++     qheat::solve(model, method, options) in a C++ loop (_qheat._time_native_solve, GIL released)
  Python  model.solve(method) (argument checks, SIGINT guard, GIL release, Solution wrapper)
  Python+ model.solve(method).currents (the wrapper's dict built as well)
each the best of 7 repeats of N calls. Run: PYTHONPATH=build/release/python /usr/bin/python3 bench/python_overhead.py
"""
import os
import sys
import time

import qheat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "examples", "zhang2025", "two_qubits.toml")


def best(f, n, repeats=7):
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        out.append((time.perf_counter() - t0) / n)
    return min(out)


def main():
    methods = sys.argv[1:] or ["global", "redfield", "local"]
    m = qheat.load_model(MODEL, T1=50)
    qheat.set_threads(1)
    print(f"{'method':10s} {'C++ [us]':>10s} {'Python [us]':>12s} {'ratio':>7s} {'+currents':>10s} {'ratio':>7s}")
    for method in methods:
        m.solve(method, threads=1)  # warm-up
        n = max(50, int(0.3 / max(qheat._qheat._time_native_solve(m._native, method, 20), 1e-7)))
        native = min(qheat._qheat._time_native_solve(m._native, method, n) for _ in range(7))
        py = best(lambda: m.solve(method, threads=1), n)
        pyc = best(lambda: m.solve(method, threads=1).currents, n)
        print(f"{method:10s} {native * 1e6:10.2f} {py * 1e6:12.2f} {py / native:7.3f} {pyc * 1e6:10.2f} {pyc / native:7.3f}")


if __name__ == "__main__":
    main()
