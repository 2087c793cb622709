"""Every OpenVINO CPU option gnet measures (:class:`OvTuning`), how each becomes a compile property, and the
configurations ``openvino-cpu:tuned`` chooses from.

``openvino-cpu:default`` is ``compile_model(path, "CPU")`` with only the precision hint set (see
:mod:`gnet.openvino_ir.runtime`): the reference the tuned rows and the ablation are measured
against. Every field is one documented OpenVINO property, or how many infer requests are in flight,
so ``gnet bench --openvino-ablation`` can say what each buys, as ``ort_options`` does for ORT.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

UNTUNED = "OpenVINO's defaults"
TUNED_MARGIN = 0.05
"""``openvino-cpu:tuned`` keeps a configuration other than OpenVINO's defaults only when it measured at least
this much faster here (interleaved): a choice within the noise is no tuning."""


@dataclass(frozen=True)
class OvTuning:
    """The OpenVINO CPU options gnet measures; the defaults are what ``compile_model(path, "CPU")`` does."""

    performance_hint: str | None = None
    """PERFORMANCE_HINT: None keeps the CPU plugin's default (LATENCY: one stream, every core on one request);
    THROUGHPUT runs several streams, each with a share of the cores, fed by several requests."""
    num_streams: int | None = None
    """NUM_STREAMS; None lets the hint decide."""
    threads: int | None = None
    """INFERENCE_NUM_THREADS; None lets OpenVINO decide (every physical core)."""
    requests: int = 1
    """Infer requests in flight: the batch is cut into this many slices, one asynchronous request each."""
    cpu_pinning: bool | None = None
    """ENABLE_CPU_PINNING; None keeps OpenVINO's choice (on, on Linux): a pinned thread cannot dodge another process."""
    static_batch: bool = False
    """Reshape the model to the slice size before compiling (one compiled model per batch size)."""

    def describe(self) -> dict[str, Any]:
        """The fields that differ from OpenVINO's defaults (what the reports print)."""
        default = OvTuning()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}

    def replace(self, **changes: Any) -> OvTuning:
        return dataclasses.replace(self, **changes)


DEFAULT = OvTuning()


def compile_config(tuning: OvTuning) -> dict[str, Any]:
    """The compile properties of ``tuning`` (typed keys and values from ``openvino.properties``); the precision
    hint is added by :func:`gnet.openvino_ir.runtime.compile_cpu`."""
    import openvino.properties as props
    import openvino.properties.hint as hints

    config: dict[str, Any] = {}
    if tuning.performance_hint is not None:
        config[hints.performance_mode] = getattr(hints.PerformanceMode, tuning.performance_hint)
    if tuning.num_streams is not None:
        config[props.num_streams] = tuning.num_streams
    if tuning.threads is not None:
        config[props.inference_num_threads] = tuning.threads
    if tuning.cpu_pinning is not None:
        config[hints.enable_cpu_pinning] = tuning.cpu_pinning
    return config


def layouts(cores: int, threads: int | None = None) -> dict[str, OvTuning]:
    """What ``openvino-cpu:tuned`` chooses from at each batch size, OpenVINO's defaults among them (and kept
    unless another measures :data:`TUNED_MARGIN` faster): the latency and throughput hints, one request per core,
    static shapes, and pinning off."""
    base = DEFAULT.replace(threads=threads)
    throughput = base.replace(performance_hint="THROUGHPUT", requests=cores)
    return {
        UNTUNED: base,
        "static batch": base.replace(static_batch=True),
        "no CPU pinning": base.replace(cpu_pinning=False),
        f"throughput hint, {cores} requests": throughput,
        f"throughput hint, {cores} requests, no CPU pinning": throughput.replace(cpu_pinning=False),
    }


def ablation(cores: int) -> dict[str, OvTuning]:
    """One change at a time from OpenVINO's defaults (``gnet bench --openvino-ablation``)."""
    return {
        UNTUNED: DEFAULT,
        "static batch (reshaped before compiling)": DEFAULT.replace(static_batch=True),
        f"{cores} requests in flight": DEFAULT.replace(requests=cores),
        "throughput hint, 1 request": DEFAULT.replace(performance_hint="THROUGHPUT"),
        f"throughput hint, {cores} requests": DEFAULT.replace(performance_hint="THROUGHPUT", requests=cores),
        f"throughput hint, {2 * cores} requests": DEFAULT.replace(performance_hint="THROUGHPUT", requests=2 * cores),
        f"{cores} streams, {cores} requests": DEFAULT.replace(num_streams=cores, requests=cores),
        "1 thread": DEFAULT.replace(threads=1),
        "no CPU pinning": DEFAULT.replace(cpu_pinning=False),
    }
