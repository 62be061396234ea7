"""Paired comparison of two variants over seeds.

Runs of two variants with the same seed share the task model's
initialisation and the data order (the resizer is built on its own random
stream, ``mmresize.preprocessors.downsizing.own_random_stream``), so the per-seed
differences are the paired sample. The 95% confidence interval of their mean
is Student's t-interval; the verdict reads it: 'better' or 'worse' where the
whole interval lies above or below 0, 'no difference' where it contains 0.
"""
import math
import statistics
from typing import Dict, Optional, Sequence

from scipy import stats as scipy_stats

CONFIDENCE = 0.95


def mean_std(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Mean and sample standard deviation (0 for one value, both None for
    no values)."""
    if not values:
        return dict(mean=None, std=None)
    return dict(mean=statistics.fmean(values),
                std=statistics.stdev(values) if len(values) > 1 else 0.0)


def t_interval(values: Sequence[float],
               confidence: float = CONFIDENCE) -> Optional[Dict[str, float]]:
    """Mean, std, n and the t-interval (low, high) of ``values``.

    None for fewer than 2 values (no interval can be given).
    """
    n = len(values)
    if n < 2:
        return None
    ms = mean_std(values)
    quantile = float(scipy_stats.t.ppf(0.5 + confidence / 2, n - 1))
    half = quantile * ms['std'] / math.sqrt(n)
    return dict(ms, n=n, low=ms['mean'] - half, high=ms['mean'] + half,
                half_width=half)


def verdict(interval: Optional[Dict[str, float]]) -> str:
    """'better', 'worse' or 'no difference' from a t-interval of gains."""
    if interval is None:
        return 'n/a (fewer than 2 paired seeds)'
    if interval['low'] > 0:
        return 'better'
    if interval['high'] < 0:
        return 'worse'
    return 'no difference'


def paired_gain(values: Dict[int, float],
                baseline: Dict[int, float]) -> Dict[str, object]:
    """Per-seed gains of ``values`` over ``baseline`` (both seed -> metric),
    on the seeds both have, with their t-interval and verdict."""
    seeds = sorted(set(values) & set(baseline))
    gains = [values[s] - baseline[s] for s in seeds]
    interval = t_interval(gains)
    return dict(seeds=seeds, gains=gains,
                mean=statistics.fmean(gains) if gains else None,
                interval=interval, verdict=verdict(interval))
