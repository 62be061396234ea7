"""mmresize.benchmark.memory and .speed: the peak memory of a call is its
own allocation, and the cost targets read the rows they are given."""
import pytest

from mmresize.benchmark import speed

MEASURE = """
import json
import numpy as np
from mmresize.benchmark import memory

def touch():
    block = np.ones(64 * 2**20, np.uint8)  # written: resident
    assert block[-1] == 1

memory.rss_growth_mb(touch)  # warm-up: the allocator's own pools
print(json.dumps([memory.rss_growth_mb(touch),
                  memory.rss_growth_mb(lambda: None),
                  memory.peak_growth_mb(touch, 'cpu')]))
"""


def test_rss_growth_is_the_calls_own_peak():
    """A call that touches 64 MB and frees it grows the peak by about that
    much; one that allocates nothing, by about nothing. In a fresh process,
    as the speed tool measures (``_child_peak``): in a long one, glibc may
    serve the block from memory an earlier free left resident (its mmap
    threshold grows after large frees), and the call grows nothing."""
    import json
    import subprocess
    import sys
    out = subprocess.run([sys.executable, '-c', MEASURE], check=True,
                         capture_output=True, text=True)
    touched, nothing, peak = json.loads(out.stdout.strip().splitlines()[-1])
    assert 60 <= touched <= 80
    assert nothing < 4
    assert peak == pytest.approx(64, abs=12)


def test_cost_targets_read_the_large_setting():
    def row(name, fwd, fwd_bwd, setting='1024x2048 -> 307x614'):
        return dict(name=name, setting=setting, forward_ms=fwd,
                    forward_backward_ms=fwd_bwd, backward_ratio=fwd_bwd / fwd)

    rows = [dict(name='yardstick'), row('DownsizeNet', 10.0, 20.0),
            row(speed.DEEPER[0], 14.0, 42.0), row(speed.DEEPER[1], 30.0, 60.0),
            row('DownsizeNet', 1.0, 9.0, '300x300 -> 100x100')]
    got = {t['what']: (t['value'], t['met']) for t in speed.target_rows(rows)}
    assert got == {
        f'{speed.DEEPER[0]} forward / DownsizeNet forward': (1.4, True),
        f'{speed.DEEPER[1]} forward / DownsizeNet forward': (3.0, False),
        'DownsizeNet fwd+bwd / fwd': (2.0, True),
        f'{speed.DEEPER[0]} fwd+bwd / fwd': (3.0, False),
        f'{speed.DEEPER[1]} fwd+bwd / fwd': (2.0, True)}
    assert set(speed.RESIZERS) <= set(speed_variants())


def speed_variants():
    from mmresize.catalogue import VARIANTS
    return VARIANTS
