"""gnet's tests: one folder per stage (export, engines, bench, cli), shared helpers in ``helpers/``, the strict TensorRT double in ``trt_double/``."""
