"""MPI-distributed sweeps (issue 13): `mpirun -np K qheat sweep ...` with 2 and 3 ranks writes a CSV
byte-identical to `--jobs 1` for a grid of fast, slow and failing points, to a file and to stdout; rank 0
alone reports progress and errors; the binary built with MPI also runs without mpirun (every other test)."""
import re

import pytest

from conftest import CHAIN, CLI, GRID, first_estimate_mib, mpirun, run, sweep_cmd


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "serial.csv"
    r = run(sweep_cmd(out))
    assert r.returncode == 0, r.stderr
    return out.read_bytes()


@pytest.mark.parametrize("ranks", [2, 3])
def test_mpirun_csv_equals_jobs_1(tmp_path, serial, ranks):
    out = tmp_path / "mpi.csv"
    r = run(sweep_cmd(out, ranks=ranks))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == serial
    # stdout (no --out): only rank 0 prints, the same bytes
    r = run(mpirun(ranks) + [CLI, "sweep", CHAIN, *GRID, "--threads", "1", "--quiet"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.encode() == serial


def test_mpirun_with_jobs_on_rank_0(tmp_path, serial):
    out = tmp_path / "mpi.csv"
    r = run(sweep_cmd(out, ranks=2, jobs=2))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == serial


def test_progress_on_rank_0_only(tmp_path):
    # Progress lines every --progress-every seconds when stderr is not a terminal; one rank reports. 1 ms: the
    # 24 points take longer than that between some two of them (an N = 8 Bloch-Redfield point alone takes
    # ~40 ms), so lines are written however fast the machine; 0.2 s was longer than the whole sweep at times.
    out = tmp_path / "p.csv"
    cmd = [c for c in sweep_cmd(out, "--progress-every", "0.001", ranks=3) if c != "--quiet"]
    r = run(cmd)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith("qheat sweep: [")]
    assert lines, r.stderr
    for l in lines:
        assert re.search(r"\d+/48 rows\s+[\d.e+-]+ rows/s\s+[\d.]+ s elapsed, ETA [\d.]+ s", l), l
    assert "rows failed" in r.stderr and r.stderr.count("rows failed") == 1  # rank 0 alone


def test_errors_once(tmp_path):
    r = run(mpirun(3) + [CLI, "sweep", CHAIN, "--vary", "nope=1,2", "--quiet"])
    assert r.returncode != 0
    errors = [l for l in r.stderr.splitlines() if l.startswith("qheat: error")]
    assert errors == [errors[0]] and "[unknown-parameter]" in errors[0], r.stderr


def test_setup_error_on_rank_0_alone_stops_every_rank(tmp_path, serial):
    # A journal left by an unfinished sweep and no --resume: only rank 0 (which alone reads the journal) fails
    # its setup; the other ranks learn of it at the setup check and stop. One error line (rank 0's), a non-zero
    # exit, the journal untouched, no CSV; once the journal is gone the same sweep runs.
    out = tmp_path / "mpi.csv"
    journal = tmp_path / "mpi.csv.journal"
    journal.write_text("not a journal\n")
    r = run(sweep_cmd(out, ranks=3))
    assert r.returncode != 0
    errors = [l for l in r.stderr.splitlines() if l.startswith("qheat: error")]
    assert len(errors) == 1 and "[journal-exists]" in errors[0], r.stderr
    assert journal.read_text() == "not a journal\n"
    assert not out.exists()
    journal.unlink()
    r = run(sweep_cmd(out, ranks=3))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == serial


def test_one_node_asks_for_ob1_unless_the_user_chose():
    # All ranks on one node: qheat sets OMPI_MCA_pml=ob1 before MPI_Init (src/mpi/distributed_mpi.cpp), so Open
    # MPI opens the ob1 PML alone -- not also the cm PML and its PSM MTLs, 0.2 s of start-up (bench/README.md,
    # "Issue 13"). A PML the user names (mpirun --mca pml ..., here Debian's own default "^ucx") wins.
    verbose = ["--mca", "pml_base_verbose", "10"]
    r = run(mpirun(2) + verbose + [CLI, "--version"])
    assert r.returncode == 0, r.stderr
    log = r.stdout + r.stderr
    assert log.count("select: component ob1 selected") == 2, log  # both ranks
    assert "found loaded component cm" not in log, log
    r = run(mpirun(2) + verbose + ["--mca", "pml", "^ucx", CLI, "--version"])
    assert r.returncode == 0, r.stderr
    log = r.stdout + r.stderr
    assert "found loaded component cm" in log and log.count("select: component ob1 selected") == 2, log


@pytest.mark.parametrize("command", [["ness", CHAIN], ["gibbs", CHAIN], ["response", CHAIN, "--perturbation", "sz(q1)"],
                                     ["check"], ["plot", CHAIN, "--out", "p.png"]])
def test_other_commands_refuse_several_ranks(tmp_path, command):
    # Only `sweep` is distributed. Any other command under mpirun -np 2 would run twice and print twice (two
    # JSON documents on one stdout); every rank stops before running it, rank 0 alone says why, exit code 2.
    r = run(mpirun(2) + [CLI, *command], cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    errors = [l for l in r.stderr.splitlines() if l.startswith("qheat: error")]
    assert len(errors) == 1 and "[mpi-ranks]" in errors[0] and f"'qheat {command[0]}'" in errors[0], r.stderr
    assert r.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_one_rank_runs_any_command():
    # One rank (mpirun -np 1, or srun -n 1 in a job script) is one process: the command runs as without mpirun.
    plain = run([CLI, "ness", CHAIN, "--format", "json"])
    r = run(mpirun(1) + [CLI, "ness", CHAIN, "--format", "json"])
    assert plain.returncode == 0 and r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout and r.stdout.lstrip().startswith("{")


def test_ranks_on_a_node_share_its_memory(tmp_path):
    # Each solve checks its estimate against an equal share of --max-memory (or of the memory available)
    # among the solves the node's ranks run at once (docs/conventions.md, "--max-memory"): K ranks that
    # each fit alone must not together exhaust the node. The estimate E of the point's first check (the
    # global equation's eigenvectors and operators, fixed by the model) comes from a run with a 1 KiB limit;
    # with a limit of 1.4 E one rank solves the point, two ranks get 0.7 E each and refuse it as a row with
    # status error that names the share.
    point = ["--set", "N=8", "--vary", "T_hot=2", "--method", "global", "--threads", "1", "--quiet"]
    limit = f"{1.4 * first_estimate_mib(8, 'global'):.2f}M"
    one = run(mpirun(1) + [CLI, "sweep", CHAIN, *point, "--max-memory", limit])
    assert one.returncode == 0, one.stderr
    assert ",converged," in one.stdout and "[memory-limit]" not in one.stdout, one.stdout
    for ranks, jobs in ((2, 1), (3, 1), (2, 2)):
        r = run(mpirun(ranks) + [CLI, "sweep", CHAIN, *point, "--jobs", str(jobs), "--max-memory", limit])
        assert r.returncode == 0, r.stderr  # a refused point is a row, not a failed sweep
        solves = ranks - 1 + jobs
        assert "[memory-limit]" in r.stdout and f"shared by {solves} solves at once" in r.stdout, (ranks, jobs, r.stdout)
