"""Summaries of repeated measurements: a value, its 95 % interval and the number of repeats.

Every timing in the results is a median with a distribution-free interval; accuracies are
fractions with a Wilson interval; summaries over seeds of positive quantities (real-time
factors, times, energies, rates) are geometric means with a Student-t interval on the log
scale, so their bounds stay positive however skewed the seeds are. One small dataclass
carries every kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Sequence


@dataclass(frozen=True)
class Summary:
    """A value with its interval and the number of observations behind it."""

    value: float
    n: int
    ci_low: float | None = None
    ci_high: float | None = None


def median_ci(samples: Sequence[float], confidence: float = 0.95) -> Summary:
    """Median with a distribution-free (order-statistic, binomial) interval.

    The interval is [x_(j), x_(k)] with ranks chosen from Binomial(n, 1/2) so that it covers
    the population median with at least ``confidence``. With fewer than six repeats no pair
    of ranks reaches 95 %; then the interval is the sample range (its coverage,
    1 - 2·0.5^n, is stated by ``n`` in the results).
    """
    xs = sorted(float(x) for x in samples)
    n = len(xs)
    if n == 0:
        raise ValueError("median_ci needs at least one sample")
    mid = n // 2
    median = xs[mid] if n % 2 else 0.5 * (xs[mid - 1] + xs[mid])
    if n == 1:
        return Summary(median, 1)
    alpha = 1.0 - confidence
    # Count k of order statistics below the interval: the largest k with
    # P(Binomial(n, 1/2) < k) <= alpha / 2, so [x_(k), x_(n-1-k)] (0-based) covers the median.
    k, tail = 0, 0.0
    while k < n // 2:
        nxt = tail + math.comb(n, k) / 2**n
        if nxt > alpha / 2:
            break
        tail, k = nxt, k + 1
    if k == 0:
        return Summary(median, n, xs[0], xs[-1])
    return Summary(median, n, xs[k - 1], xs[n - k])


def wilson(successes: int, n: int, confidence: float = 0.95) -> Summary:
    """Fraction ``successes / n`` with the Wilson score interval."""
    if n <= 0:
        raise ValueError("wilson needs n > 0")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At p = 0 or 1 the bound is exactly 0 or 1; the formula leaves rounding residue.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Summary(p, n, low, high)


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Mean with a Student-t interval (used for summaries over seeds)."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = sum(xs) / n
    if n == 1:
        return Summary(mean, 1)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    from scipy.stats import t as student_t  # slow import; only simulation summaries need it

    half = student_t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return Summary(mean, n, float(mean - half), float(mean + half))


def geometric_mean_ci(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Geometric mean with a Student-t interval on the log scale, for positive quantities.

    The interval is exp(mean(log x) ± t·sd(log x)/√n): it is positive and, for a
    right-skewed quantity (a real-time factor on a machine that was sometimes busy), it
    stretches upwards rather than below zero as the plain Student-t interval does.
    """
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("geometric_mean_ci needs at least one value")
    if any(not math.isfinite(x) or x <= 0 for x in xs):
        raise ValueError(f"geometric_mean_ci needs positive finite values, got {xs}")
    logs = mean_ci([math.log(x) for x in xs], confidence)
    low = None if logs.ci_low is None else math.exp(logs.ci_low)
    high = None if logs.ci_high is None else math.exp(logs.ci_high)
    return Summary(math.exp(logs.value), logs.n, low, high)


def positive_summary(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """The summary over seeds of a non-negative quantity: the geometric mean with its
    log-scale interval (:func:`geometric_mean_ci`) where every value is positive, else (a
    zero, e.g. a silent population's rate) the median with its order-statistic interval
    (:func:`median_ci`), which cannot go below the smallest value either."""
    xs = [float(v) for v in values]
    if xs and all(x > 0 for x in xs):
        return geometric_mean_ci(xs, confidence)
    if any(x < 0 for x in xs):
        raise ValueError(f"positive_summary needs non-negative values, got {xs}")
    return median_ci(xs, confidence)
