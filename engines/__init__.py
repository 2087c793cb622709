"""ONNX → TensorRT engine, and running one (docs/design.md, stage ``engines/``).

``build_inputs`` validates the ONNX and the options, ``build`` parses, builds and writes the
plan, ``precision_proof`` proves the engine's precision, ``manifest`` assembles, validates and
reads the JSON beside each plan, ``runtime`` runs a plan (``EngineRunner``) on one of the CUDA
backends (``cuda_backend`` is the interface; ``cuda_python_backend``, ``pycuda_backend``, chosen
by ``cuda_choice``; ``allocations`` frees what a runner took), ``availability`` and ``info``
say what this machine can do. Nothing here imports TensorRT or CUDA at import time: ``gnet --help``
stays fast and every command works, with a clear sentence, on a machine without them.
"""
