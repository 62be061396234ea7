"""mmresize.benchmark.timing: the one median timer times exactly the calls
it should, synchronised with the device around each."""
import pytest
import torch

from mmresize.benchmark import timing


def fake_clock(monkeypatch, durations):
    """Each call of the timed function advances a fake clock by the next of
    ``durations`` seconds; returns the calls and syncs seen."""
    now, lengths, events = [0.0], iter(durations), []
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: now[0])
    monkeypatch.setattr(timing, 'sync',
                        lambda device=None: events.append(('sync', device)))

    def fn():
        events.append(('call', None))
        now[0] += next(lengths)

    return fn, events


def test_median_of_the_timed_calls_after_the_warm_up(monkeypatch):
    # warm-up calls take 9 s (not timed); then 0.003, 0.001, 0.002 s
    fn, events = fake_clock(monkeypatch, [9.0, 9.0, 0.003, 0.001, 0.002])
    assert timing.median_ms(fn, 3, 'cuda:1', warmup=2) == pytest.approx(2.0)
    calls = [e for e in events if e[0] == 'call']
    assert len(calls) == 5
    # every timed call sits between two syncs of the device asked for
    timed_part = events[2:]
    assert timed_part == [('sync', 'cuda:1'), ('call', None),
                          ('sync', 'cuda:1')] * 3


def test_deploy_style_call(monkeypatch):
    """``median_ms(fn, repeats)``: one warm-up, the current device."""
    fn, events = fake_clock(monkeypatch, [5.0, 0.010, 0.030])
    assert timing.median_ms(fn, 2) == pytest.approx(20.0)
    assert events[0] == ('call', None) and events[1] == ('sync', None)
    with pytest.raises(ValueError, match='repeats must be at least 1'):
        timing.median_ms(fn, 0)


def test_interleaved_timing_takes_turns(monkeypatch):
    # two functions timed in turns after one untimed turn, the order
    # reversed every other turn; a clock drift (each call slower than the
    # one before) falls on both alike
    now, events = [0.0], []
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: now[0])
    monkeypatch.setattr(timing, 'sync', lambda device=None: None)

    def make(name, seconds):
        def fn():
            events.append(name)
            now[0] += seconds * (1 + 0.1 * len(events))
        return fn

    fa, fb = make('a', 0.001), make('b', 0.002)
    a, b = timing.interleaved_median_ms([fa, fb], 3)
    assert events == ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b']
    # timed calls 3..8: a at 1.3, 1.6, 1.7 ms; b at 2 x 1.4, 1.5, 1.8 ms
    assert a == pytest.approx(1.6) and b == pytest.approx(3.0)
    with pytest.raises(ValueError, match='repeats must be at least 1'):
        timing.interleaved_median_ms([fa], 0)


def test_sync_waits_only_for_cuda(monkeypatch):
    synced = []
    monkeypatch.setattr(torch.cuda, 'synchronize',
                        lambda device=None: synced.append(device))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    timing.sync('cpu')
    assert synced == []
    timing.sync('cuda:0')
    assert synced == ['cuda:0']
    monkeypatch.setattr(torch.cuda, 'is_initialized', lambda: False)
    timing.sync()  # CUDA never used here: no context is started
    assert synced == ['cuda:0']
    monkeypatch.setattr(torch.cuda, 'is_initialized', lambda: True)
    timing.sync()
    assert synced == ['cuda:0', None]
