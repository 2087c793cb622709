"""Checks (docs/design.md, stage ``checks/``): every artifact against PyTorch FP32.

``images`` loads the parity and calibration images, ``ort`` runs a graph under check on ONNX Runtime,
``metrics`` compares logits, ``tolerances`` holds each precision's measured bounds, ``parity`` judges a set of
logits, ``sqnr`` measures where INT8 hurts, ``diagnosis`` names the layer that broke a graph, and ``check``
re-proves a file that exists (``gnet check``). Every stage proves what it writes with these, so they depend on no
stage; ``check`` alone sits above ``export/`` and ``openvino_ir/``, since re-proving needs the recorded weights.
"""
