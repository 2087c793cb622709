"""PyTorch → ONNX, then ONNX → ONNX in another precision (docs/design.md, stage ``export/``).

``weights`` and ``weights_choice`` load GoogLeNet's weights, ``folding`` folds BatchNorm and
``transform_input``, ``onnx_export`` writes the checked FP32 ONNX, ``convert`` makes the FP16
(``fp16``) and INT8 (``calibration``, ``quantize``, ``qdq_rules``) graphs from it, ``images``,
``reference``, ``metrics``, ``tolerances`` and ``parity`` prove each artifact against PyTorch,
``sqnr`` shows where INT8 hurts, ``fixture`` trains the test network, and ``api`` is what the
commands call.
"""
