"""The few exact tests ``score.findings`` needs, kept apart so each is checked on its own.

- ``sign_test``: the exact two-sided binomial test on the cases where two paired
  outcomes differ. On good/bad outcomes it *is* the exact McNemar test (only the
  discordant cases carry information, and under no difference each falls either
  way with probability 1/2); on good/unclear/bad it is the sign test on the
  ordered verdicts.
- ``sign_test_power``: that test's power for a given number of cases and the
  observed rates of each kind of discordant case, computed exactly (the number of
  discordant cases is binomial, and given it the split is binomial), so "not
  enough cases to tell" is a computation, not a rule of thumb.
- ``bootstrap_ci``: a percentile interval for a mean of paired differences,
  resampling cases: exact (every resample) for verdict differences, seeded
  resamples per comparison otherwise, so a store always gives the same intervals
  whatever else was compared.
- ``poisson_binomial_sf``: P(S >= k) for a sum of independent Bernoullis with
  their own probabilities: the exact score distribution of a guesser on a mix
  of 2-, 3- and 4-way choices (and open cases, which a guess never gets right).
- ``holm``: Holm's step-down adjustment.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence

import numpy as np

#: Resamples per bootstrap interval: the 2.5 % and 97.5 % percentiles move by well under a point beyond this.
N_BOOT = 4000


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact p-value of ``wins`` against ``losses`` under a fair coin (1.0 when both are 0)."""
    n = wins + losses
    if n == 0:
        return 1.0
    from scipy.special import bdtr  # the binomial CDF as a ufunc: ``stats.binom``'s checks cost 50x more

    return float(min(1.0, 2 * bdtr(min(wins, losses), n, 0.5)))


def min_sign_p(discordant: int) -> float:
    """The smallest p-value ``sign_test`` can give on ``discordant`` cases: all of them one way."""
    return min(1.0, 2 * 0.5 ** discordant) if discordant else 1.0


def _critical(n_max: int, alpha: float) -> np.ndarray:
    """For each d <= n_max: the largest k with 2 P(K <= k) <= alpha, K ~ Bin(d, 1/2) (-1: none)."""
    return _critical_table(1 << max(6, n_max.bit_length()), alpha)[: n_max + 1]


@functools.lru_cache(maxsize=32)
def _critical_table(size: int, alpha: float) -> np.ndarray:
    """``_critical`` up to ``size`` (a power of two, so that the table is reused)."""
    from scipy.stats import binom

    d = np.arange(0, size + 1)
    k = binom.ppf(alpha / 2, d, 0.5).astype(int)  # smallest k with P(K <= k) >= alpha / 2
    k = np.where(2 * binom.cdf(k, d, 0.5) <= alpha * (1 + 1e-12), k, k - 1)
    return np.where(d == 0, -1, k)


def _binom_pmf(k: np.ndarray, n: int, p: float) -> np.ndarray:
    from scipy.special import gammaln

    with np.errstate(divide="ignore"):
        logp = (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
                + k * np.log(p) + (n - k) * np.log1p(-p)) if 0 < p < 1 else None
    if logp is None:  # p of 0 or 1: all the mass on one end
        return (k == (n if p >= 1 else 0)).astype(float)
    return np.exp(logp)


def sign_test_power(n: int, p_win: float, p_loss: float, alpha: float) -> float:
    """Power of the two-sided ``sign_test`` at ``alpha`` over ``n`` paired cases when a
    case goes to the first model with probability ``p_win`` and to the second with ``p_loss``.
    Sums over the number of discordant cases d within 12 standard deviations of its mean
    (the rest weighs less than 1e-30). Written on ``scipy.special``'s binomial ufuncs:
    findings computes it for every comparison, thousands on a large store."""
    from scipy.special import bdtr, bdtrc

    p_disc = p_win + p_loss
    if n <= 0 or p_disc <= 0:
        return 0.0
    q = p_win / p_disc
    mean, sd = n * p_disc, (n * p_disc * (1 - p_disc)) ** 0.5
    d = np.arange(max(0, int(mean - 12 * sd) - 1), min(n, int(mean + 12 * sd) + 1) + 1)
    c = _critical(n, alpha)[d]
    ok = c >= 0
    cs = np.where(ok, c, 0)
    low = np.where(ok, bdtr(cs, d, q), 0.0)  # P(X <= c)
    high = np.where(ok, bdtrc(np.maximum(d - cs - 1, 0), d, q), 0.0)  # P(X >= d - c)
    high = np.where(ok & (d - cs - 1 < 0), 1.0, high)
    return float(np.sum(_binom_pmf(d, n, p_disc) * (low + high)))


def cases_needed(p_win: float, p_loss: float, alpha: float, power: float = 0.8, limit: int = 10_000) -> int | None:
    """About how many paired cases give ``power`` for these rates (None: more than ``limit``,
    or no difference to detect): the normal-approximation sample size of McNemar's test
    (Connor 1987), rounded up. An estimate to say how far a store is from telling, so the
    exact power (``sign_test_power``) is not searched for it: that search cost minutes on
    100,000 results."""
    from scipy.special import ndtri

    diff, p_disc = abs(p_win - p_loss), p_win + p_loss
    if diff == 0 or p_disc <= 0:
        return None
    za, zb = ndtri(1 - alpha / 2), ndtri(power)
    n = ((za * p_disc ** 0.5 + zb * max(p_disc - diff * diff, 0.0) ** 0.5) / diff) ** 2
    return int(np.ceil(n)) if n <= limit else None


def bootstrap_ci(diffs: Sequence[float], key: str, seed: int = 0, confidence: float = 0.95
                 ) -> tuple[float, float]:
    """Percentile interval of the mean of ``diffs`` under resampling the cases.

    Paired differences of verdict values (good 1, unclear 1/2, bad 0) are multiples of
    1/2, so a resample's sum is a sum of draws from a distribution on a few lattice
    points: its exact distribution (every possible resample, weighted) is the n-fold
    convolution of one draw's, computed with one FFT. That is the bootstrap with
    infinitely many resamples, with no Monte Carlo error and no seed, in milliseconds
    (drawing 4,000 resamples per comparison took most of ``fourfold findings`` on large
    stores). Other values fall back to ``N_BOOT`` resamples, seeded by ``seed`` and
    ``key`` (what is compared), so the interval is still reproducible."""
    a = np.asarray(diffs, dtype=float)
    if a.size == 0:
        return (0.0, 0.0)
    tail = (1 - confidence) / 2
    doubled = a * 2
    steps = np.rint(doubled)
    if np.array_equal(steps, doubled):
        return _exact_bootstrap_ci(steps.astype(np.int64), tail)
    return _sampled_bootstrap_ci(a, key, seed, tail)


def _exact_bootstrap_ci(halves: np.ndarray, tail: float) -> tuple[float, float]:
    """The ``tail`` and ``1 - tail`` quantiles of the resampled mean of ``halves / 2``, exactly."""
    n = halves.size
    low = int(halves.min())
    one = np.bincount(halves - low) / n  # one draw, on the lattice low, low + 1, ... (in halves)
    if one.size == 1:
        return (low / 2, low / 2)
    size = n * (one.size - 1) + 1  # the sum of n draws: 0 .. n * (points - 1), shifted by n * low
    fast = 1 << (size - 1).bit_length()  # a power of two: the FFT of an awkward length is slow; no wrap-around
    dist = np.fft.irfft(np.fft.rfft(one, fast) ** n, fast)[:size]
    cdf = np.cumsum(np.clip(dist, 0.0, None))
    cdf /= cdf[-1]
    eps = 1e-9  # FFT rounding must not move a quantile that sits exactly on a step of the CDF
    lo, hi = np.searchsorted(cdf, [tail - eps, 1 - tail - eps])
    return (float((lo + n * low) / (2 * n)), float((hi + n * low) / (2 * n)))


def _sampled_bootstrap_ci(a: np.ndarray, key: str, seed: int, tail: float) -> tuple[float, float]:
    """``N_BOOT`` seeded resamples, drawn as multinomial counts of the distinct values
    (one vectorised binomial per value, each conditional on the ones before): the same
    distribution as drawing cases, at a cost that does not grow with the number of cases."""
    rng = np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])
    values, counts = np.unique(a, return_counts=True)
    left = np.full(N_BOOT, a.size, dtype=np.int64)
    total = np.zeros(N_BOOT)
    share_left = 1.0
    for value, count in zip(values[:-1], counts[:-1], strict=True):
        share = count / a.size
        drawn = rng.binomial(left, min(1.0, share / share_left))
        total += drawn * value
        left -= drawn
        share_left -= share
    means = (total + left * values[-1]) / a.size
    lo, hi = np.percentile(means, [tail * 100, 100 - tail * 100])
    return (float(lo), float(hi))


def poisson_binomial_sf(probs: Sequence[float], k: int) -> float:
    """P(S >= k) where S is the number of successes of independent trials with ``probs``."""
    if k <= 0:
        return 1.0
    dist = np.zeros(len(probs) + 1)
    dist[0] = 1.0
    for i, p in enumerate(probs):
        dist[1 : i + 2] = dist[1 : i + 2] * (1 - p) + dist[: i + 1] * p
        dist[0] *= 1 - p
    return float(min(1.0, dist[k:].sum())) if k < dist.size else 0.0


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the given order: the i-th smallest times (m - i), made
    non-decreasing, capped at 1. The same numbers as ``statsmodels.stats.multitest.multipletests
    (method="holm")`` (the tests check), which also runs a full ``gc.collect()`` on every call:
    0.2 s each with a large store loaded."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


__all__ = ["N_BOOT", "bootstrap_ci", "cases_needed", "holm", "min_sign_p", "poisson_binomial_sf", "sign_test",
           "sign_test_power"]
