#!/usr/bin/env python3
"""Issue 13 benchmark: MPI-distributed `qheat sweep`, whole processes, one run each.

1. Parallel efficiency: 16 XX-chain points at N = 8 (examples/chain/xx_chain.toml, T_hot = 1.5..3),
   Bloch-Redfield, --threads 1: wall time of one rank on each core and of two ranks (and once a plain
   process); efficiency = T(1 rank) / (2 T(2 ranks)), with T(1 rank) from the faster core, and against
   the speeds both cores showed alone (see main()); floors: what a distribution that costs nothing could reach,
   with mpirun's own cost and with what two ranks that only start and stop MPI cost (mpirun -np 2 qheat --version).
2. Per-point overhead of the distribution: 4000 cheap points (Zhang's two qubits, global, ~10 us each):
   (2 T(2 ranks) - T(1 process)) / points, after subtracting mpirun's start-up (a 1-point sweep under
   mpirun -np 2 minus one in a plain process) — the extra CPU time per point that the distribution costs
   (messages, waits).
Run: /usr/bin/python3 bench/mpi_sweep.py [--ob1] [--rounds=5] [--points=16] [--sites=8] [build/release/qheat]
(--ob1: mpirun --mca pml ob1; --points: the length of the sweep in part 1, 16 for the goal, more to see how the
start-up is amortised; --sites: the chain's N in part 1, 8 for the goal, more for dearer points)
The runs of part 1 are repeated in interleaved rounds; the efficiencies are given per round and as medians.
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


def bare(cmd):
    """Wall time of a command that takes no --out."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    return time.perf_counter() - t0


ROUNDS = 5  # the efficiency is reported per round and as the median (--rounds=N)
POINTS = 16  # points of part 1 (--points=N, even)
SITES = 8  # the chain's length in part 1 (--sites=N)
def pair_wall(cmds):
    """Two processes (each its own --out) started at once: the wall time of each."""
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        procs = [subprocess.Popen(c + ["--out", os.path.join(d, f"s{i}.csv"), "--quiet"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, env=ENV) for i, c in enumerate(cmds)]
        times = [None, None]
        while None in times:
            for i, p in enumerate(procs):
                if times[i] is None and p.poll() is not None:
                    times[i] = time.perf_counter() - t0
                    if p.returncode != 0:
                        sys.exit(f"{' '.join(p.args)}: {p.stderr.read()}")
            time.sleep(0.001)
        return times


MCA = []  # extra mpirun options (--ob1: ["--mca", "pml", "ob1"], which skips UCX's start-up on one node)


def mpirun(n):
    return ["mpirun", "-np", str(n), "--oversubscribe"] + MCA


def main():
    global ROUNDS, POINTS, SITES
    for a in sys.argv[1:]:
        if a.startswith("--rounds="):
            ROUNDS = int(a.split("=", 1)[1])
        if a.startswith("--points="):
            POINTS = 2 * (int(a.split("=", 1)[1]) // 2)
        if a.startswith("--sites="):
            SITES = int(a.split("=", 1)[1])
    if "--ob1" in sys.argv:
        MCA.extend(["--mca", "pml", "ob1"])
    print(f"mpirun options: {' '.join(mpirun(2))}")
    chain = [QHEAT, "sweep", os.path.join(ROOT, "examples/chain/xx_chain.toml"), "--set", f"N={SITES}",
             "--vary", f"T_hot=1.5:3:{POINTS}", "--method", "redfield", "--threads", "1", "--jobs", "1"]
    # The two vCPUs of this machine do not run at one speed, and which one is slower changes from minute to
    # minute (a memory-bound 8-point sweep measured 2.75 s on one and 3.6-3.8 s on the other, then the
    # reverse). So each round times one rank on core 0 (where mpirun -np 1 puts it), one rank on core 1,
    # and two ranks, in rotating order, and gives three efficiencies:
    #   vs best core  T1 = the faster single rank: T1/(2 T2)            (conservative)
    #   vs the cores  the two ranks against the speeds the two cores showed alone: H/T2 with
    #                 H = 1/(1/T1(core 0) + 1/T1(core 1)), the time of a perfect split (= T1/(2 T2) for equal cores)
    #   mpirun -np 1  T1(core 0)/(2 T2)
    # and, as the ceiling the machine sets, what the cores lose by running at once: two independent processes
    # without MPI (8 points each, one per core) alone and then at the same time; hardware = the throughput of
    # the two at once over the sum of their throughputs alone, (1/p0 + 1/p1)/(1/a0 + 1/a1) -- the best
    # "vs the cores" any distribution could reach while both cores compute.
    # Floor: the two independent processes split 16 points as well as any distribution could at the speeds
    # they showed together, 2/(1/p0 + 1/p1) (= p0 = p1 for equal cores), and mpirun itself costs what it
    # costs around its ranks (mpirun -np 2 true, less a plain `true`); their sum is the two-rank time of a
    # distribution whose MPI_Init/Finalize, messages and tail cost nothing. "floor" is the efficiency that
    # time gives, vs best core and vs the cores -- the most any change to qheat's distribution could show
    # in that round. "floor with MPI's start" puts in place of `mpirun -np 2 true` what two qheat ranks that
    # do nothing cost over one plain qheat that does nothing (mpirun -np 2 qheat --version: every rank runs
    # MPI_Init_thread and MPI_Finalize, as in a sweep, less a plain qheat --version) -- the most any change
    # to the distribution could show while the ranks start MPI as they must.
    plain = wall(chain)
    print(f"plain process (no mpirun): {plain:.2f} s", flush=True)
    runs = {"c0": mpirun(1) + ["--cpu-set", "0", "--bind-to", "core"] + chain,
            "c1": mpirun(1) + ["--cpu-set", "1", "--bind-to", "core"] + chain,
            "np2": mpirun(2) + chain}
    half = [a if a != f"T_hot=1.5:3:{POINTS}" else f"T_hot=1.5:3:{POINTS // 2}" for a in chain]
    order = ["c0", "c1", "np2", "pair"]
    eff = {"best": [], "cores": [], "np1": [], "hw": [], "floor": [], "floor_cores": [], "floor_mpi": []}
    for r in range(ROUNDS):
        t = {}
        for k in order[r % 4:] + order[:r % 4]:
            if k == "pair":  # the hardware's own two-core efficiency: no MPI, two independent 8-point processes
                t["half0"] = wall(["taskset", "-c", "0"] + half)
                t["half1"] = wall(["taskset", "-c", "1"] + half)
                t["pair0"], t["pair1"] = pair_wall([["taskset", "-c", "0"] + half, ["taskset", "-c", "1"] + half])
                t["launcher"] = min(bare(mpirun(2) + ["true"]) for _ in range(3)) - min(bare(["true"]) for _ in range(3))
                t["mpi_start"] = (min(bare(mpirun(2) + [QHEAT, "--version"]) for _ in range(3)) -
                                  min(bare([QHEAT, "--version"]) for _ in range(3)))
            else:
                t[k] = wall(runs[k])
        t1, t2 = min(t["c0"], t["c1"]), t["np2"]
        h = 1.0 / (1.0 / t["c0"] + 1.0 / t["c1"])
        eff["best"].append(t1 / (2 * t2))
        eff["cores"].append(h / t2)
        eff["np1"].append(t["c0"] / (2 * t2))
        eff["hw"].append((1.0 / t["pair0"] + 1.0 / t["pair1"]) / (1.0 / t["half0"] + 1.0 / t["half1"]))
        floor = 2.0 / (1.0 / t["pair0"] + 1.0 / t["pair1"]) + t["launcher"]
        eff["floor"].append(t1 / (2 * floor))
        eff["floor_cores"].append(h / floor)
        eff["floor_mpi"].append(t1 / (2 * (floor - t["launcher"] + t["mpi_start"])))
        print(f"round {r + 1}: {POINTS} XX-chain points, N = {SITES}, Bloch-Redfield: one rank on core 0 {t['c0']:.2f} s, "
              f"on core 1 {t['c1']:.2f} s, two ranks {t2:.2f} s; efficiency vs best core {eff['best'][-1]:.3f}, "
              f"vs the cores {eff['cores'][-1]:.3f}, mpirun -np 1 {eff['np1'][-1]:.3f}; no MPI, {POINTS // 2} points alone on core 0 "
              f"{t['half0']:.2f} s, on core 1 {t['half1']:.2f} s, both at once {t['pair0']:.2f} s and {t['pair1']:.2f} s: "
              f"hardware's two-core efficiency {eff['hw'][-1]:.3f}; mpirun -np 2 true costs {t['launcher']:.3f} s, "
              f"floor vs best core {eff['floor'][-1]:.3f}, vs the cores {eff['floor_cores'][-1]:.3f}; two do-nothing ranks "
              f"cost {t['mpi_start']:.3f} s more than one plain process, floor with MPI's start vs best core "
              f"{eff['floor_mpi'][-1]:.3f}", flush=True)
    for k, label in (("best", "vs best core"), ("cores", "vs the cores"), ("np1", "mpirun -np 1"),
                     ("hw", "of the hardware (no MPI)"), ("floor", "floor (zero-cost distribution) vs best core"),
                     ("floor_cores", "floor (zero-cost distribution) vs the cores"),
                     ("floor_mpi", "floor with MPI's start (mpirun -np 2 qheat --version) vs best core")):
        v = sorted(eff[k])
        print(f"efficiency {label} over {ROUNDS} rounds: median {v[len(v) // 2]:.3f}, range {v[0]:.3f}-{v[-1]:.3f}")

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
