"""Long work releases the GIL and honours Ctrl-C (docs/python.md, "Long work"): SIGINT during a sweep or a
long solve raises KeyboardInterrupt in the caller soon after, no thread is left behind, Python's SIGINT
handler is back in place, and the next call runs normally. The child processes print what they measured;
the latency bound here is loose (see LATENCY) because the test checks behaviour, not speed — the issue's
one-second figure is measured in bench/README.md."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import example

# The interrupt must arrive long before the work would end by itself (the sweep below takes >= 40 s, the
# solve 22 s on this machine, idle, 2026-12-03; depth 9 had become 1.4 s after the HEOM speed-ups and ended
# before the signal) — a wait for the end would exceed this; 5 s leaves room for a loaded
# CI machine while the measured latency is printed (typically milliseconds).
LATENCY = 5.0

CHILD = textwrap.dedent("""
    import os, signal, sys, threading, time
    import qheat
    def tasks():
        return len(os.listdir("/proc/self/task"))
    kind = sys.argv[1]
    m = qheat.load_model(sys.argv[2], N=8) if kind == "sweep" else qheat.load_model(sys.argv[2], J12=1)
    m.solve("global", threads=1)          # warm-up: OpenBLAS creates its threads once
    base = tasks()
    print("ready", flush=True)
    try:
        if kind == "sweep":
            qheat.sweep(m, vary={"T_hot": "1:3:400"}, methods=["redfield"], jobs=2, threads=1)
        else:
            m.solve("heom", heom_depth=14, heom_terms=3, threads=1)  # 319770 ADOs, 22 s
        print("finished", flush=True)
    except KeyboardInterrupt:
        t = time.monotonic()
        time.sleep(0.2)                    # any straggling worker would still be alive now
        print("interrupted", t, tasks() - base, threading.active_count(), flush=True)
    # the handler is Python's again and the next call works
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    s = m.solve("global", threads=1)
    print("after", s.status, flush=True)
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
        print("no-interrupt", flush=True)
    except KeyboardInterrupt:
        print("plain-interrupt", flush=True)
""")


@pytest.mark.parametrize("kind,model", [
    ("sweep", "examples/chain/xx_chain.toml"),
    ("solve", "examples/kato2016/two_qubits.toml"),
])
def test_ctrl_c(kind, model):
    p = subprocess.Popen([sys.executable, "-c", CHILD, kind, example(model)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    lines = out.splitlines()
    assert p.returncode == 0, err
    assert lines[0].startswith("interrupted"), (out, err)
    _, t, extra_tasks, py_threads = lines[0].split()
    latency = float(t) - sent
    print(f"{kind}: KeyboardInterrupt {latency * 1e3:.1f} ms after SIGINT")
    assert 0 <= latency < LATENCY
    assert int(extra_tasks) == 0 and int(py_threads) == 1  # no leaked threads (OS or Python)
    assert lines[1] == "after converged" and lines[2] == "plain-interrupt"


def test_gil_is_released_during_long_work(qheat):
    """While one Python thread runs a sweep, another keeps running Python code."""
    import threading
    m = qheat.load_model(example("examples/chain/xx_chain.toml"), N=6)
    done = threading.Event()
    ticks = []

    def work():
        qheat.sweep(m, vary={"T_hot": "1:3:60"}, methods=["redfield"], threads=1)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks.append(time.monotonic())
        time.sleep(0.001)
    t.join()
    # The sweep takes about a second (60 points of a 64-level chain); a held GIL would leave the loop at
    # one tick (it could not run until the sweep returned).
    assert len(ticks) > 20, len(ticks)
