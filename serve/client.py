"""A small client of a served gnet model: one synchronous tritonclient (HTTP or gRPC) per instance.

tritonclient's clients are not meant to be shared between threads: give each thread its own.
Close clients when done: an open HTTP keep-alive connection makes the server wait its exit timeout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gnet import defaults
from gnet.errors import UsageError

PROTOCOLS = ("http", "grpc")


class Client:
    """One connection to one served model; ``infer`` is one request."""

    def __init__(self, url: str, protocol: str, model: str = defaults.MODEL_NAME, timeout_s: float = 120.0) -> None:
        if protocol not in PROTOCOLS:
            raise UsageError(f"unknown protocol {protocol!r}", remedy=f"choose from {', '.join(PROTOCOLS)}")
        self.protocol, self.model, self.timeout_s = protocol, model, timeout_s
        if protocol == "http":
            import tritonclient.http as module

            self._client = module.InferenceServerClient(url, connection_timeout=timeout_s, network_timeout=timeout_s)
        else:
            import tritonclient.grpc as module

            self._client = module.InferenceServerClient(url)
        self._module: Any = module

    def ready(self) -> bool:
        """Whether the server answers and is ready (False while it starts, or when it is gone)."""
        try:
            return bool(self._client.is_server_ready())
        except Exception:  # noqa: BLE001 - connection refused, reset, timeout: all mean "not ready"
            return False

    def infer(self, images: np.ndarray, dtype: str = "FP32") -> np.ndarray:
        """NCHW images → logits; raises tritonclient's InferenceServerException with the server's error."""
        item = self._module.InferInput(defaults.INPUT_NAME, list(images.shape), dtype)
        item.set_data_from_numpy(np.ascontiguousarray(images))
        if self.protocol == "http":  # binary output: JSON would round-trip every float through text
            wanted = [self._module.InferRequestedOutput(defaults.OUTPUT_NAME, binary_data=True)]
            result = self._client.infer(self.model, [item], outputs=wanted)
        else:
            wanted = [self._module.InferRequestedOutput(defaults.OUTPUT_NAME)]
            result = self._client.infer(self.model, [item], outputs=wanted, client_timeout=self.timeout_s)
        return result.as_numpy(defaults.OUTPUT_NAME)

    def parameter(self, name: str) -> str:
        """A parameter of the served model's configuration ("" when it has none of that name)."""
        if self.protocol == "http":
            params = self._client.get_model_config(self.model).get("parameters", {})
            return str(params.get(name, {}).get("string_value", ""))
        params = self._client.get_model_config(self.model).config.parameters
        return params[name].string_value if name in params else ""

    def statistics(self) -> tuple[int, int]:
        """(executions, inferences) of the model so far: fewer executions than inferences means batching."""
        stats = self._client.get_inference_statistics(self.model)
        entry = stats["model_stats"][0] if self.protocol == "http" else stats.model_stats[0]
        if self.protocol == "http":
            return int(entry["execution_count"]), int(entry["inference_count"])
        return int(entry.execution_count), int(entry.inference_count)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def served_logits(url: str, protocol: str, images: np.ndarray, batch: int) -> np.ndarray:
    """Every image through the server in requests of ``batch`` images."""
    with Client(url, protocol) as client:
        return np.concatenate([client.infer(images[i:i + batch]) for i in range(0, len(images), batch)])
