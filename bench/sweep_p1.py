#!/usr/bin/python3
"""P1 sweep timing: the Zhang model (examples/zhang2025/two_qubits.toml), Bloch-Redfield with Lamb
shift, on an n x n grid of (T1, g) (default 100 x 100 = 10 000 points): `qheat sweep` with --jobs 1
and --jobs 2 (whole process: parse, grid, solve, CSV), and QuTiP 4.7 on the same points
(bloch_redfield_tensor without Lamb shift — QuTiP has none — + steadystate + the hot-bath current).
Prints points per second of each and the ratios measured in this one run; also checks that the
--jobs 2 CSV equals the --jobs 1 CSV byte for byte, and compares qheat --lamb-shift off with QuTiP.

  /usr/bin/python3 bench/sweep_p1.py --qheat build/release/qheat [--n 100] [--qutip-every 1]
"""
import argparse
import csv
import os
import subprocess
import tempfile
import time

import numpy as np
import qutip
from timing import drude_noise_spectrum

MODEL = "examples/zhang2025/two_qubits.toml"
P = dict(eps1=5.0, eps2=4.0, gamma=0.01, omega_D=50.0, T2=5.0)


def drude(T):
    return drude_noise_spectrum(2 * P["gamma"], P["omega_D"], T)  # kappa = 2 J (conventions.md)


def qutip_point(T1, g):
    sx1 = qutip.tensor(qutip.sigmax(), qutip.qeye(2))
    sx2 = qutip.tensor(qutip.qeye(2), qutip.sigmax())
    H = 0.5 * P["eps1"] * qutip.tensor(qutip.sigmaz(), qutip.qeye(2)) \
        + 0.5 * P["eps2"] * qutip.tensor(qutip.qeye(2), qutip.sigmaz()) + g * sx1 * sx2
    hot, cold = [sx1, drude(T1)], [sx2, drude(P["T2"])]
    R, ekets = qutip.bloch_redfield_tensor(H, [hot, cold], use_secular=False)
    rho = qutip.steadystate(R)
    R0, _ = qutip.bloch_redfield_tensor(H, [], use_secular=False)
    Rh, _ = qutip.bloch_redfield_tensor(H, [hot], use_secular=False)
    drho = qutip.vector_to_operator((Rh - R0) * qutip.operator_to_vector(rho))
    return (H.transform(ekets) * drho).tr().real


def run_qheat(exe, n, jobs, out, lamb="auto"):
    cmd = [exe, "sweep", MODEL, "--method", "redfield", "--lamb-shift", lamb, "--vary", f"T1=5:205:{n}",
           "--vary", f"g=0.05:1:{n}", "--jobs", str(jobs), "--quiet", "--out", out]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--qheat", default="build/release/qheat")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--qutip-every", type=int, default=1, help="time QuTiP on every k-th point only")
    a = ap.parse_args()
    pts = a.n * a.n
    with tempfile.TemporaryDirectory() as tmp:
        f1, f2, f0 = (os.path.join(tmp, x) for x in ("j1.csv", "j2.csv", "off.csv"))
        t1 = run_qheat(a.qheat, a.n, 1, f1)
        t2 = run_qheat(a.qheat, a.n, 2, f2)
        same = open(f1, "rb").read() == open(f2, "rb").read()
        run_qheat(a.qheat, a.n, 2, f0, lamb="off")
        with open(f0) as f:
            rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    print(f"qheat sweep, {pts} points, Bloch-Redfield with Lamb shift:")
    print(f"  --jobs 1: {t1:.2f} s  ({pts / t1:,.0f} points/s)")
    print(f"  --jobs 2: {t2:.2f} s  ({pts / t2:,.0f} points/s)  speed-up {t1 / t2:.2f}")
    print(f"  --jobs 2 CSV byte-identical to --jobs 1: {same}")
    sel = rows[:: a.qutip_every]
    t0 = time.perf_counter()
    dev, scale, worst_rel = 0.0, 0.0, 0.0
    for r in sel:
        J = qutip_point(float(r["T1"]), float(r["g"]))
        dev = max(dev, abs(J - float(r["J_hot"])))
        scale = max(scale, abs(J))
        if abs(J) > 1e-6:
            worst_rel = max(worst_rel, abs(J - float(r["J_hot"])) / abs(J))
    tq = time.perf_counter() - t0
    print(f"QuTiP 4.7, {len(sel)} points (no Lamb shift): {tq:.2f} s  ({len(sel) / tq:,.0f} points/s)")
    print(f"  J_hot, qheat --lamb-shift off vs QuTiP: max |dJ| / max |J| = {dev / scale:.1e}; "
          f"worst relative deviation where |J| > 1e-6: {worst_rel:.1e}")
    print(f"ratio (points/s qheat / QuTiP): --jobs 1 x{(pts / t1) / (len(sel) / tq):.0f}, "
          f"--jobs 2 x{(pts / t2) / (len(sel) / tq):.0f}")


if __name__ == "__main__":
    main()
