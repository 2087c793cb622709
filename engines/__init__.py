"""ONNX → TensorRT engine, and running one (DESIGN.md, stage ``engines/``).

Nothing here imports TensorRT or CUDA at import time: ``gnet --help`` stays fast
and every command works, with a clear sentence, on a machine without them.
"""
