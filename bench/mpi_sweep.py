#!/usr/bin/env python3
"""Issue 13 benchmark: MPI-distributed `qheat sweep`, whole processes, one run each.

1. Parallel efficiency: 16 XX-chain points at N = 8 (examples/chain/xx_chain.toml, T_hot = 1.5..3),
   Bloch-Redfield, --threads 1: wall time with mpirun -np 1 and -np 2 (and a plain process);
   efficiency = T(1 rank) / (2 T(2 ranks)).
2. Per-point overhead of the distribution: 4000 cheap points (Zhang's two qubits, global, ~10 us each):
   (2 T(2 ranks) - T(1 process)) / points, after subtracting mpirun's start-up (a 1-point sweep under
   mpirun -np 2 minus one in a plain process) — the extra CPU time per point that the distribution costs
   (messages, waits).
Run: /usr/bin/python3 bench/mpi_sweep.py [--ob1] [--rounds=5] [build/release/qheat]   (--ob1: mpirun --mca pml ob1)
The three runs of part 1 are repeated in interleaved rounds; the efficiency is given per round and as the median.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
QHEAT = ARGS[0] if ARGS else os.path.join(ROOT, "build", "release", "qheat")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def wall(cmd):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        r = subprocess.run(cmd + ["--out", os.path.join(d, "s.csv"), "--quiet"], capture_output=True, text=True, env=ENV)
        t = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)}: {r.stderr}")
        return t


ROUNDS = 5  # the efficiency is reported per round and as the median (--rounds=N)
MCA = []  # extra mpirun options (--ob1: ["--mca", "pml", "ob1"], which skips UCX's start-up on one node)


def mpirun(n):
    return ["mpirun", "-np", str(n), "--oversubscribe"] + MCA


def main():
    global ROUNDS
    for a in sys.argv[1:]:
        if a.startswith("--rounds="):
            ROUNDS = int(a.split("=", 1)[1])
    if "--ob1" in sys.argv:
        MCA.extend(["--mca", "pml", "ob1"])
    print(f"mpirun options: {' '.join(mpirun(2))}")
    chain = [QHEAT, "sweep", os.path.join(ROOT, "examples/chain/xx_chain.toml"), "--set", "N=8",
             "--vary", "T_hot=1.5:3:16", "--method", "redfield", "--threads", "1", "--jobs", "1"]
    effs = []
    for r in range(ROUNDS):  # interleaved, so that a slow minute of the machine hits both
        plain = wall(chain)
        one = wall(mpirun(1) + chain)
        two = wall(mpirun(2) + chain)
        effs.append(one / (2 * two))
        print(f"round {r + 1}: 16 XX-chain points, N = 8, Bloch-Redfield: plain process {plain:.2f} s, "
              f"mpirun -np 1 {one:.2f} s, -np 2 {two:.2f} s; efficiency T1/(2 T2) = {effs[-1]:.3f} "
              f"(plain process as T1: {plain / (2 * two):.3f})", flush=True)
    effs.sort()
    print(f"efficiency over {ROUNDS} rounds: median {effs[len(effs) // 2]:.3f}, range {effs[0]:.3f}-{effs[-1]:.3f}")

    zhang = [QHEAT, "sweep", os.path.join(ROOT, "examples/zhang2025/two_qubits.toml"), "--method", "global",
             "--threads", "1", "--jobs", "1"]
    n = 4000
    start_plain = wall(zhang + ["--vary", "T1=5"])
    start_mpi = wall(mpirun(2) + zhang + ["--vary", "T1=5"])
    serial = wall(zhang + ["--vary", f"T1=5:205:{n}"]) - start_plain
    dist = wall(mpirun(2) + zhang + ["--vary", f"T1=5:205:{n}"]) - start_mpi
    print(f"{n} Zhang points (global): one process {serial:.3f} s (+{start_plain:.3f} s start), mpirun -np 2 "
          f"{dist:.3f} s (+{start_mpi:.3f} s start); overhead per point (2 T2 - T1)/points = "
          f"{(2 * dist - serial) / n * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
