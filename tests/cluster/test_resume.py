"""Checkpoint and resume (issue 13): a sweep killed with SIGKILL at random moments and resumed with --resume
ends with a CSV byte-identical to the uninterrupted run — serial, with --jobs 2 and under mpirun — no row
lost, none duplicated; an incomplete last journal line (a kill during its write) is dropped and its point
solved again; a journal of other arguments or another model file is refused naming the difference."""
import os
import random
import shutil
import subprocess
import time

import pytest

from conftest import CHAIN, CLI, GRID, first_estimate_mib, journal_lines, kill_at_progress, run, start, sweep_cmd


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.csv"
    r = run(sweep_cmd(out))
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(str(out) + ".journal"), "a finished sweep removes its journal"
    return out.read_bytes()


POINTS = 24  # GRID's points


def resume_until_done(out, seed, ranks=0, jobs=1, max_rounds=30):
    """Kills runs at random moments (first a fresh run, then --resume runs) until one finishes. A moment is
    drawn as "after k more points, plus up to 0.3 s" -- k = 0 kills during mpirun's start-up or the first
    point, the extra time lands inside a point's solve or a journal write -- so the kills fall inside the
    run however fast the machine is (2026-12-03: the whole run 1.05-1.20 s serial, 0.73-0.75 s on two ranks;
    its last 12 points 0.16-0.21 s)."""
    rng = random.Random(seed)
    journal = str(out) + ".journal"
    kills = 0
    for round_ in range(max_rounds):
        extra = ["--resume"] if round_ > 0 else []
        have = max(0, journal_lines(journal) - 1) if round_ > 0 else 0
        left = POINTS - have
        # The first three runs are killed (k below the points left); later ones finish when k >= left.
        k = rng.randint(0, max(0, min(12, left - 1))) if round_ < 3 else rng.randint(0, left + 2)
        # The first run is killed as soon as its journal has 1 + k lines (at least 12 points are left, which
        # no run finishes between two polls of the journal), so that every seed kills at least once however
        # fast the points are; later kills wait a random extra time.
        then = rng.uniform(0.0, 0.3)
        p = start(sweep_cmd(out, *extra, ranks=ranks, jobs=jobs))
        if k < left and kill_at_progress(p, journal, 1 + have + k, then=then if round_ > 0 else 0.0):
            kills += 1
            continue
        if p.poll() is None:
            p.wait()
        err = p.stderr.read()
        assert p.returncode == 0, err
        return kills
    pytest.fail(f"no run finished in {max_rounds} rounds")


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mode", ["serial", "jobs2", "mpirun2"])
def test_killed_and_resumed_equals_uninterrupted(tmp_path, reference, seed, mode):
    if mode == "mpirun2" and os.environ.get("QHEAT_HAVE_MPI") != "ON":
        pytest.skip("this build has no MPI (QHEAT_MPI off or Open MPI not found)")
    out = tmp_path / "s.csv"
    kills = resume_until_done(out, seed, ranks=2 if mode == "mpirun2" else 0, jobs=2 if mode == "jobs2" else 1)
    print(f"{mode} seed {seed}: {kills} kills")
    assert kills >= 1, "the first runs are killed"
    assert out.read_bytes() == reference
    assert not os.path.exists(str(out) + ".journal")


def killed_once(tmp_path, points=3):
    """A sweep killed as soon as `points` points are in its journal."""
    out = tmp_path / "s.csv"
    p = start(sweep_cmd(out))
    journal = str(out) + ".journal"
    assert kill_at_progress(p, journal, 1 + points), "the sweep should still run when killed"
    assert os.path.exists(journal)
    return out, journal


def test_truncated_last_line_is_recomputed(tmp_path, reference):
    out, journal = killed_once(tmp_path)
    lines = open(journal).read().splitlines(keepends=True)
    assert len(lines) >= 3, "the kill came after a few points"
    # Cut the last point's line in the middle, as a kill during its write(2) would.
    with open(journal, "w") as f:
        f.writelines(lines[:-1])
        f.write(lines[-1][: len(lines[-1]) // 2])
    r = run([c for c in sweep_cmd(out, "--resume") if c != "--quiet"])  # the resume note is not --quiet
    assert r.returncode == 0, r.stderr
    assert "incomplete last line was dropped" in r.stderr
    assert f"{len(lines) - 2} of 24 points are in the journal" in r.stderr
    assert out.read_bytes() == reference


def test_corrupt_line_is_recomputed(tmp_path, reference):
    out, journal = killed_once(tmp_path)
    text = open(journal).read()
    # A flipped digit in the last line breaks its checksum: dropped and solved again.
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    i = next(k for k, c in enumerate(last) if c.isdigit() and k > 20)
    bad = last[:i] + str((int(last[i]) + 1) % 10) + last[i + 1:]
    open(journal, "w").write(text[: text.rindex(last)] + bad + "\n")
    r = run(sweep_cmd(out, "--resume"))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == reference


@pytest.mark.parametrize("change,named", [
    (["--method", "global"], "--method"),
    (["--set", "J=0.3"], "--set"),
    (["--observable", "sz(q1)"], "--observable"),
    # The BLAS threads of a point's solve move the last digits (OpenBLAS's threaded kernels add in another
    # order: XX chain N = 4-8, relative 1e-15 to 1e-11), so a resume with another count would mix them.
    (["--threads", "2"], "BLAS threads per point (--threads)"),
])
def test_journal_of_other_arguments_is_refused(tmp_path, change, named):
    out, journal = killed_once(tmp_path, 1)
    cmd = sweep_cmd(out, "--resume")
    if change[0] == "--method":
        cmd[cmd.index("global,redfield")] = "global"
    elif change[0] == "--threads":
        cmd[cmd.index("--threads") + 1] = change[1]
    else:
        cmd += change
    r = run(cmd)
    assert r.returncode == 2
    assert r.stderr.startswith("qheat: error [journal-mismatch]") and named in r.stderr, r.stderr
    assert os.path.exists(journal), "a refused resume leaves the journal as it was"


@pytest.mark.parametrize("first", ['{"identity": 5}', '[[1, 2]]', '{"a": "b"}', '{"identity": [["model"]]}', "not json"])
def test_journal_whose_identity_line_is_damaged_is_refused(tmp_path, first):
    # JSON of another shape ended in "internal error: [json.exception...]" with exit code 3.
    out = tmp_path / "s.csv"
    journal = tmp_path / "s.csv.journal"
    journal.write_text(first + "\n")
    r = run(sweep_cmd(out, "--resume"))
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("qheat: error [journal-mismatch]") and "is not a qheat sweep journal" in r.stderr
    assert journal.read_text() == first + "\n", "a refused resume leaves the journal as it was"


def test_journal_of_the_model_spelled_otherwise_is_refused(tmp_path):
    # Error rows quote the model path as written; a resume with the same file spelled otherwise mixed both
    # spellings in one CSV (equal to neither uninterrupted run).
    model = tmp_path / "chain.toml"
    shutil.copy(CHAIN, model)
    out = tmp_path / "s.csv"
    cmd = [CLI, "sweep", "chain.toml", *GRID, "--threads", "1", "--quiet", "--out", str(out)]
    p = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    assert kill_at_progress(p, str(out) + ".journal", 2)
    r = run([CLI, "sweep", str(model), *GRID, "--threads", "1", "--quiet", "--out", str(out), "--resume"])
    assert r.returncode == 2 and "[journal-mismatch]" in r.stderr and "model (as written)" in r.stderr, r.stderr


def test_journal_of_another_model_file_is_refused(tmp_path):
    model = tmp_path / "chain.toml"
    shutil.copy(CHAIN, model)
    out = tmp_path / "s.csv"
    cmd = [CLI, "sweep", str(model), *GRID, "--threads", "1", "--quiet", "--out", str(out)]
    p = start(cmd)
    assert kill_at_progress(p, str(out) + ".journal", 2)
    with open(model, "a") as f:
        f.write("# edited\n")
    r = run(cmd + ["--resume"])
    assert r.returncode == 2 and "[journal-mismatch]" in r.stderr and "model contents" in r.stderr, r.stderr


def test_rules_around_the_journal(tmp_path):
    out, journal = killed_once(tmp_path, 1)
    r = run(sweep_cmd(out))  # no --resume: the unfinished sweep is not overwritten
    assert r.returncode == 2 and r.stderr.startswith("qheat: error [journal-exists]"), r.stderr
    # --resume without a journal (killed before it was written): starts afresh
    fresh = tmp_path / "fresh.csv"
    r = run([CLI, "sweep", CHAIN, "--vary", "N=2,3", "--out", str(fresh), "--resume"])
    assert r.returncode == 0 and "0 of 2 points are in the journal" in r.stderr, r.stderr
    r = run([CLI, "sweep", CHAIN, "--vary", "N=2,3", "--resume"])
    assert r.returncode == 2 and r.stderr.startswith("qheat: error [resume]"), r.stderr


def test_points_refused_for_memory_are_solved_again_on_resume(tmp_path):
    # Whether a point fits depends on the run's resources (--max-memory, --jobs, ranks per node), which may
    # change on resume; a point refused for memory is no result and --resume solves it again. The limit
    # L = 1.4 E(N = 9), E from the first check's estimate: with --jobs 2 each solve gets 0.7 E and the
    # N = 9 point is refused at once while the N = 8 points (a quarter of the size) are solved; the run is
    # killed after the refused point and one N = 8 point are in the journal, and resumed with --jobs 1,
    # which has room for N = 9. The CSV equals an uninterrupted --jobs 1 run: no error row left.
    limit = f"{1.4 * first_estimate_mib(9, 'redfield'):.1f}M"
    args = [CLI, "sweep", CHAIN, "--vary", "N=9,8,8,8,8", "--method", "redfield", "--threads", "1", "--quiet",
            "--max-memory", limit]
    ref = tmp_path / "ref.csv"
    r = run(args + ["--jobs", "1", "--out", ref])
    assert r.returncode == 0, r.stderr
    assert b"[memory-limit]" not in ref.read_bytes()
    out = tmp_path / "s.csv"
    journal = str(out) + ".journal"
    p = start(args + ["--jobs", "2", "--out", out])
    assert kill_at_progress(p, journal, 3), "the sweep should still run when killed"
    assert b"memory-limit" in open(journal, "rb").read()
    r = run([a for a in args if a != "--quiet"] + ["--jobs", "1", "--out", out, "--resume"])
    assert r.returncode == 0, r.stderr
    assert "1 refused for memory are solved again" in r.stderr, r.stderr
    assert out.read_bytes() == ref.read_bytes()


def test_second_run_on_a_journal_in_use_is_refused(tmp_path, reference):
    # The journal is locked (flock) while a run writes it: a second run with the same --out and --resume stops
    # with journal-busy and leaves the first alone, which then finishes with the uninterrupted CSV.
    out = tmp_path / "s.csv"
    journal = str(out) + ".journal"
    p = start(sweep_cmd(out))
    deadline = time.monotonic() + 300
    while journal_lines(journal) < 2 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert p.poll() is None, "the first run should still be running"
    r = run(sweep_cmd(out, "--resume"))
    assert r.returncode == 2 and r.stderr.startswith("qheat: error [journal-busy]"), r.stderr
    _, err = p.communicate()
    assert p.returncode == 0, err
    assert out.read_bytes() == reference


def test_file_system_without_locks(tmp_path, reference, monkeypatch):
    # Where flock is not supported (Lustre mounted noflock, NFS without its lock daemon; here a preloaded
    # flock that fails with ENOSYS) the sweep runs without the guard and says so once, also with --quiet;
    # kill and resume still end with the uninterrupted CSV.
    monkeypatch.setenv("LD_PRELOAD", os.environ["QHEAT_FLOCK_UNSUPPORTED"])
    out = tmp_path / "s.csv"
    journal = str(out) + ".journal"
    p = start(sweep_cmd(out))
    assert kill_at_progress(p, journal, 3), "the sweep should still run when killed"
    r = run(sweep_cmd(out, "--resume"))
    assert r.returncode == 0, r.stderr
    notes = [l for l in r.stderr.splitlines() if "cannot be locked on this file system" in l]
    assert len(notes) == 1 and "Function not implemented" in notes[0], r.stderr
    assert out.read_bytes() == reference
