"""ONNX → precision graphs (docs/design.md, stage ``precision/``): the FP32 ONNX becomes FP16 or INT8 here.

``convert`` makes each graph and proves it before it is written; ``fp16`` converts to FP16;
``calibration``, ``calibration_ranges`` and ``calibration_cache`` gather and keep INT8 ranges; ``quantize``
and ``qdq_rules`` place Q/DQ nodes in the TensorRT format or the CPU format.
"""
