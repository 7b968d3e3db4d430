"""Helpers of the sweep-at-scale tests (issue 13, docs/cluster.md): the qheat binary of this build
(QHEAT_CLI, set by ctest), mpirun as this machine needs it, and an interrupted-run harness."""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("QHEAT_CLI", os.path.join(ROOT, "build", "release", "qheat"))
CHAIN = os.path.join(ROOT, "examples", "chain", "xx_chain.toml")

# A grid that mixes fast points (N = 2: microseconds), slow ones (N = 8, Bloch-Redfield: ~0.4 s; the uninterrupted run takes ~3 s) and failing
# ones (T_hot = -1: a negative temperature, an error row), with two methods per point.
GRID = ["--vary", "N=2,8,3,7", "--vary", "T_hot=-1,1.5,2,2.5,3,3.5", "--method", "global,redfield"]


def mpi_env():
    env = dict(os.environ)
    # Open MPI refuses to run as root unless told (this machine's CI runs as root); harmless otherwise.
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def mpirun(np_):
    exe = shutil.which("mpirun")
    if exe is None:
        pytest.fail("mpirun not found: scripts/bootstrap installs openmpi-bin")
    return [exe, "-np", str(np_), "--oversubscribe"]


def sweep_cmd(out, *extra, ranks=0, jobs=1):
    cmd = (mpirun(ranks) if ranks else []) + [CLI, "sweep", CHAIN, *GRID, "--jobs", str(jobs), "--threads", "1",
                                               "--quiet", "--out", str(out), *extra]
    return cmd


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=mpi_env(), **kw)


def first_estimate_mib(n, method):
    """The memory estimate (MiB) of the first check of CHAIN's N = n point under `method`, from the error of a
    run with a 1 KiB limit (fixed by the model: eigenvectors and operators)."""
    r = run([CLI, "ness", CHAIN, "--set", f"N={n}", "--method", method, "--max-memory", "1K"])
    m = re.search(r"needs an estimated ([\d.]+) MiB", r.stderr)
    assert r.returncode == 2 and m, r.stderr
    return float(m.group(1))


def start(cmd):
    """Starts a run in its own process group (mpirun and its ranks die together)."""
    return subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=mpi_env(), start_new_session=True)


def descendants(pid):
    """Every process below pid (mpirun's ranks leave its process group, so killpg does not reach them)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill(proc):
    """SIGKILL to the run and every process below it (as a node that dies takes all of them)."""
    victims = [proc.pid] + descendants(proc.pid)
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    for pid in victims[1:]:  # gone before the next run starts (they are not our children: poll)
        for _ in range(200):
            if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.01)


def kill_after(proc, seconds):
    """Kills the run after `seconds`, or nothing when it ended earlier; True when killed."""
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        kill(proc)
        return True


def journal_lines(journal):
    """Complete lines in a sweep's journal: its identity line, then one per finished point."""
    try:
        with open(journal, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_at_progress(proc, journal, lines, then=0.0, timeout=300.0):
    """Kills the run `then` seconds after its journal holds `lines` complete lines -- a moment set by the
    sweep's progress, not by the clock, so that it falls inside the run on a fast machine and a slow one.
    Nothing when the run ended first; True when killed."""
    deadline = time.monotonic() + timeout
    while journal_lines(journal) < lines:
        if proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            kill(proc)
            pytest.fail(f"the journal did not reach {lines} lines in {timeout} s")
        time.sleep(0.002)
    if then > 0:
        return kill_after(proc, then)
    if proc.poll() is not None:
        return False
    kill(proc)
    return True
