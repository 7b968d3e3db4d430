"""Shared helper of the side-by-side benchmark scripts in bench/."""
import time


def best(f, repeat):
    """Runs f() `repeat` times; returns (shortest wall time in seconds, the last value)."""
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = f()
        times.append(time.perf_counter() - t0)
    return min(times), value
