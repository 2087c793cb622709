"""PyTorch → ONNX (docs/design.md, stage ``export/``).

``weights`` and ``weights_choice`` load GoogLeNet's weights, ``folding`` folds BatchNorm and
``transform_input``, ``onnx_export`` writes the checked FP32 ONNX, ``metadata`` and ``hashing`` record what
each file is, ``fixture`` trains the test network, and ``api`` is
what the pipeline calls (the FP32 export, then the precision stage, each artifact made once and reused).
"""
