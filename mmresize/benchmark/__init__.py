"""Benchmark and report code behind ``tools/benchmark_accuracy.py``,
``tools/summarize_accuracy.py``, ``tools/benchmark_resizers.py``,
``tools/equal_cost.py``, ``tools/transfer_study.py`` and ``tools/demo.py``,
one concept per module:

- ``timing``: the one median timer and the device sync it relies on;
- ``provenance``: code version, device name and host record of a run;
- ``measure``: what a trained run is measured by (EMA / raw evaluation,
  drift from bilinear, the resizer's share of a training step);
- ``matrix``: config building, one run, the resumable queue and its
  time-window scheduler;
- ``report``: loading results (legacy names translated), refusing to pair
  mismatched runs, summaries, the one gain/CI formatter, tables and plot;
- ``memory`` and ``speed``: peak memory of one call, the resizer speed
  table;
- ``demo``: the synthetic-data demo (paired, bilinear against DownsizeNet);
- ``cost``: inference multiply-adds of a model, its resizer included;
- ``equal_cost``: the bilinear factor of equal cost, the accuracy-against-
  cost curve over a task's matrices and its pairs across factors;
- ``gpu_suite``: the resizers on a GPU (batch 8, training-step shares, the
  multiply-add floor);
- ``transfer_study``: the frozen-transfer study (sources, extraction,
  paired targets, Table 3).

Nothing is imported here: ``python -m mmresize.benchmark.matrix`` (a run's
child process) and the framework-free modules stay light.
"""
