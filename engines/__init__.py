"""ONNX → TensorRT or TensorRT-RTX engine, and running one (docs/design.md, stage ``engines/``).

``editions`` is the one table of what differs between data-centre TensorRT and TensorRT-RTX, and
``trt_import`` imports the edition ``--runtime`` picks. ``build_inputs`` validates the ONNX and the
options, ``network`` parses, ``network_proof`` proves the parsed network's precision before building,
``build_config`` and ``build`` build and write the plan, ``precision_proof`` proves the engine's precision
with the inspector (data-centre TensorRT), ``proofs`` records which proofs ran, ``manifest`` assembles,
validates and reads the JSON beside each plan, ``plan_loader`` and ``rtx_runtime`` load a plan (TensorRT-RTX:
validity check, runtime cache, its CUDA graphs), ``runtime`` runs it (``EngineRunner``) on one of the CUDA
bindings (``cuda_binding`` is the interface; ``cuda_python_binding``, ``pycuda_binding``, chosen by
``cuda_choice``; ``allocations`` frees what a runner took), ``availability`` and ``info`` say what this
machine can do. Nothing here imports TensorRT or CUDA at import time: ``gnet --help`` stays fast and every
command works, with a clear sentence, on a machine without them.
"""
