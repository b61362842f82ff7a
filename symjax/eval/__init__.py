"""Zero-shot evaluation binary: ``python -m symjax.eval --gin_file=gin/runs/eval_zero_shot.gin ...``.

The library lives in :mod:`symjax.train.zero_shot` (``EvalConfig``, ``evaluate``).
"""
