"""Shared fixtures of the Python package's tests: the package from the build tree (PYTHONPATH, set by
ctest) and the qheat binary of the same build (QHEAT_CLI) for comparisons with the command line."""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("QHEAT_CLI", os.path.join(ROOT, "build", "release", "qheat"))


def example(relative):
    """Absolute path of a repository file, e.g. example('examples/zhang2025/two_qubits.toml')."""
    return os.path.join(ROOT, relative)


def run_cli(*args):
    """Runs the qheat binary; returns (exit code, stdout, stderr)."""
    r = subprocess.run([CLI, *[str(a) for a in args]], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def cli_json(*args):
    code, out, err = run_cli(*args)
    assert code in (0, 4), f"qheat {' '.join(map(str, args))} failed ({code}): {err}"
    return json.loads(out)


def cli_rule(stderr):
    """The RULE of `qheat: error [RULE]: message`."""
    assert stderr.startswith("qheat: error ["), stderr
    return stderr[len("qheat: error ["):].split("]", 1)[0]


@pytest.fixture(scope="session")
def qheat():
    import qheat as q
    return q
