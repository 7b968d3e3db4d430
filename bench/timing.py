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


def drude_noise_spectrum(kappa_gamma, wc, T):
    """QuTiP's noise-power spectrum S(w) = kappa~(w) for the Drude density kappa(w) = gamma w / (1 + (w/wc)^2)
    at temperature T (conventions.md; w > 0 is emission): kappa (1 + n) for w > 0, kappa n for w < 0."""
    import math

    def S(w):
        if abs(w) < 1e-14:
            return kappa_gamma * T  # limit of kappa(w) n(w) for w -> 0
        x = abs(w)
        k = kappa_gamma * x / (1 + (x / wc) ** 2)
        n = 1.0 / math.expm1(x / T)
        return k * (1 + n) if w > 0 else k * n
    return S
