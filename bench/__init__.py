"""Measuring (DESIGN.md, stage ``bench/``): every backend × precision × batch → parity vs PyTorch FP32 + img/s + latency.

Nothing heavy is imported here: ``gnet --help`` stays fast.
"""
