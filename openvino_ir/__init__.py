"""OpenVINO target (docs/design.md, stage ``openvino_ir/``): an ONNX artifact → OpenVINO IR, and the runtime calls
that compile and run either on the CPU.

``runtime`` wraps the OpenVINO runtime (its version, capabilities, CPU compilation, what it really ran),
``ir`` reads and writes IR with gnet's metadata, and ``export`` is ``gnet openvino``.
"""
