"""Measuring (docs/design.md, stage ``bench/``): every backend × precision × batch → parity vs PyTorch FP32 + img/s + latency.

``runners/`` holds one runner per backend behind one interface (``runners/base.py``), each opening its
runtime through :mod:`gnet.runners`; ``harness`` drives them (artifacts and plans from :mod:`gnet.pipeline`,
parity, ``timing`` and ``stats``;
``engine_builds`` reports what building the TensorRT-RTX plans costs here), ``results``
assembles the document every report reads (``report_table``, ``report_files``, ``plot``,
``baseline``), ``environment`` records the machine, ``ablation`` measures ONNX Runtime's options, and ``api``
is ``gnet.benchmark``.
Nothing heavy is imported here: ``gnet --help`` stays fast.
"""
