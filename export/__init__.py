"""PyTorch → ONNX, then ONNX → ONNX in another precision (DESIGN.md, stage ``export/``)."""
