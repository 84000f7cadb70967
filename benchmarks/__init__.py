"""hefa's benchmarks: measurements printed as value, same-run baseline, ratio and target.

Run them all with ``python -m benchmarks [--quick] [--postgres]`` from the repo root.
``prescreen_quality.py`` is a separate quality report (precision/recall), not a timing.
"""
