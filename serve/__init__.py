"""Serving on NVIDIA Triton Inference Server: ``gnet serve`` (a real server on this machine) and
``gnet triton-repo`` (a model repository for production Triton containers)."""
