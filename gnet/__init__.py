"""gnet: GoogLeNet from PyTorch to checked ONNX and TensorRT engines, with proof of parity and speed."""

__version__ = "0.1.0"
