"""gnet's tests (installed as ``gnet.tests`` so the TensorRT double can be reused)."""
