"""mmresize.benchmark.gpu_suite runs end to end (quick sizes, on the CPU
here; its figures are a benchmark's, never asserted), and its multiply-add
floor is the hand count."""
import pytest

from mmresize.benchmark import gpu_suite


def test_floor_counts_each_layer_forward_and_backward():
    # DownsizeNet, 2 convs: 432 H W (the first conv: forward and weight
    # gradient, the image needs none) + 2384 h w (the rest: forward, input
    # and weight gradients) multiply-adds an image, 2 FLOPs each
    macs = 2 * 432 * 64 * 128 + 3 * 2384 * 19 * 38
    assert gpu_suite.floor_ms((64, 128), (19, 38), 2, tflops=1.0) == \
        pytest.approx(2 * 2 * macs / 1e12 * 1000)


def test_downsizenet_is_measured_on_both_paths_only_on_cuda(monkeypatch):
    names = ['bilinear', 'DownsizeNet', 'DownsizeNet-16nb']
    assert gpu_suite.case_paths(names, 'cpu') == [
        (n, 'pytorch') for n in names]
    assert gpu_suite.case_paths(names, 'cuda') == [
        ('bilinear', 'pytorch'), ('DownsizeNet', 'pytorch'),
        ('DownsizeNet', 'triton'), ('DownsizeNet-16nb', 'pytorch'),
        ('DownsizeNet-16nb', 'triton')]
    monkeypatch.setenv('MMRESIZE_TRITON', '0')
    assert gpu_suite.case_paths(names, 'cuda') == [
        (n, 'pytorch') for n in names]


def test_code_path_turns_the_kernel_off_or_proves_it_ran():
    import torch

    from mmresize.resizers import DownsizeNet, fused_triton
    x, model = torch.rand(1, 3, 8, 8), DownsizeNet()
    with fused_triton.forced():
        with gpu_suite.code_path('pytorch'):
            assert not fused_triton.available(x, model)
            model(x, (3, 3))
        with gpu_suite.code_path('triton'):  # the interpreter runs it
            model(x, (3, 3))
    with pytest.raises(RuntimeError, match='did not run'):
        with gpu_suite.code_path('triton'):
            model(x, (3, 3))  # CPU tensors, not forced: the PyTorch path


def test_quick_suite_runs_and_reports_every_case():
    result = gpu_suite.run('cpu', 1, ['bilinear', 'DownsizeNet'], quick=True)
    cases = {(r['setting'], r['name']): r for r in result['cases']}
    assert set(cases) == {('64x128 -> 19x38', 'bilinear'),
                          ('64x128 -> 19x38', 'DownsizeNet'),
                          ('32x32 -> 10x10', 'bilinear'),
                          ('32x32 -> 10x10', 'DownsizeNet')}
    for row in result['cases']:
        assert row['forward_ms'] > 0 and row['forward_backward_ms'] > 0
        assert 'peak_mb' in row
    down = cases[('64x128 -> 19x38', 'DownsizeNet')]
    assert down['over_floor'] == pytest.approx(
        down['forward_backward_ms'] / down['floor_ms'])
    assert 'floor_ms' not in cases[('64x128 -> 19x38', 'bilinear')]
    shares = {r['name']: r for r in result['step_shares']}
    assert set(shares) == {'bilinear', 'DownsizeNet'}
    for r in shares.values():
        assert r['share'] == pytest.approx(r['resizer_ms'] / r['step_ms'])
    table = gpu_suite.markdown(result)
    assert 'quick sizes: figures mean nothing' in table
    assert 'DownsizeNet-2conv at most 5% of the step' in table
