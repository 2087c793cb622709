"""``gnet serve``, ``gnet triton-repo`` and ``gnet triton-stub-env``: thin shells over :mod:`gnet.serve`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from gnet import defaults
from gnet.cli.common import console, err_console, handle_errors, parse_batches

PORT = click.IntRange(1, 65535)


@click.command("serve")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--host", default=defaults.SERVE_HOST, show_default=True,
              help="Address to listen on; 0.0.0.0 opens the server to the network (deliberately: inference needs no credentials and HTTP has no TLS).")
@click.option("--http-port", default=defaults.HTTP_PORT, show_default=True, type=PORT)
@click.option("--grpc-port", default=defaults.GRPC_PORT, show_default=True, type=PORT)
@click.option("--metrics-port", default=defaults.METRICS_PORT, show_default=True, type=PORT,
              help="Prometheus metrics at http://HOST:PORT/metrics.")
@click.option("--instances", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Model instances, each a process with its own ONNX Runtime session (the cores are shared out).")
@click.option("--max-batch", default=defaults.SERVE_MAX_BATCH, show_default=True, type=click.IntRange(1, 4096),
              help="Largest batch one request may carry, and the dynamic batcher may form.")
@click.option("--max-queue-delay-us", default=defaults.MAX_QUEUE_DELAY_US, show_default=True,
              type=click.IntRange(0, 10_000_000), help="How long the dynamic batcher may hold a request to batch it.")
@click.option("--preferred-batch", help="Batch sizes the dynamic batcher aims for, e.g. 8,16,32 [default: none].")
@click.option("--threads", type=click.IntRange(1, 1024),
              help="ONNX Runtime threads per instance [default: the physical cores divided by --instances].")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Keep Triton's own log in this file [default: discarded when the server stops].")
@handle_errors
def serve_cmd(model: Path, host: str, http_port: int, grpc_port: int, metrics_port: int, instances: int,
              max_batch: int, max_queue_delay_us: int, preferred_batch: str | None, threads: int | None,
              log_file: Path | None) -> None:
    """Serve a gnet ONNX on a real Triton Inference Server as model googlenet, until Ctrl-C or SIGTERM.

    \b
    Input "input" FP32 [batch, 3, H, W], output "logits" FP32 [batch, classes], dynamic batching,
    HTTP and gRPC (KServe v2 protocol), metrics. "ready" is printed only after a warm-up request
    through the server was answered. A request with NaN/Inf pixels gets an INVALID_ARG error of
    its own; requests batched with it are answered normally.

    \b
    Example:
      gnet serve artifacts/googlenet_int8_cpu.qdq.onnx --http-port 8000 --grpc-port 8001 --metrics-port 8002
    """
    from gnet.serve.service import ServeConfig, TritonService, url_host

    config = ServeConfig(model=model, host=host, http_port=http_port, grpc_port=grpc_port, metrics_port=metrics_port,
                         instances=instances, max_batch=max_batch, queue_delay_us=max_queue_delay_us,
                         preferred=tuple(parse_batches(preferred_batch) or ()), threads=threads, log_file=log_file)
    service = TritonService(config, log=lambda text: err_console.print(f"[bold yellow]{escape(text)}[/]",
                                                                       highlight=False, soft_wrap=True))
    service.start()
    sig = service.signature
    assert sig is not None
    where = url_host(host)  # the address it listens on (0.0.0.0: every interface)
    console.print(f"ready: {defaults.MODEL_NAME} ({escape(model.name)}, {sig.precision}, input [{sig.channels}, "
                  f"{sig.height}, {sig.width}], {sig.classes} classes, {instances} instance(s)) on "
                  f"http://{where}:{http_port} grpc://{where}:{grpc_port} metrics http://{where}:{metrics_port}/metrics"
                  f" after {service.startup_s:.1f} s; Ctrl-C stops", highlight=False, soft_wrap=True)
    try:
        service.serve_forever()  # until Ctrl-C (exit 130) or SIGTERM (143); a dead tritonserver is restarted
    finally:
        if service.leaked_shm:
            err_console.print(f"removed shared memory the server left: {escape(', '.join(service.leaked_shm))}",
                              highlight=False, soft_wrap=True)


@click.command("triton-repo")
@click.option("-o", "--output", default=str(defaults.MODEL_REPOSITORY), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="The repository folder (replaced as a whole).")
@click.option("--artifacts", default=str(defaults.ARTIFACTS_DIR), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where the ONNX files and plans are.")
@click.option("--max-batch", default=defaults.SERVE_MAX_BATCH, show_default=True, type=click.IntRange(1, 4096),
              help="max_batch_size of the ONNX models (plans take their profile's maximum).")
@click.option("--cpu-instances", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Instances of the CPU INT8 model.")
@click.option("--gpu-instances", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Instances per GPU of the GPU models.")
@click.option("--max-queue-delay-us", default=defaults.MAX_QUEUE_DELAY_US, show_default=True,
              type=click.IntRange(0, 10_000_000), help="The dynamic batcher's queue delay.")
@click.option("--triton-version", help="The Triton release (e.g. 25.10) the repository is for: plans of another "
              "TensorRT are refused.")
@click.option("--tensorrt-version", help="The server's TensorRT version (overrides --triton-version's table).")
@handle_errors
def triton_repo_cmd(output: Path, artifacts: Path, max_batch: int, cpu_instances: int, gpu_instances: int,
                    max_queue_delay_us: int, triton_version: str | None, tensorrt_version: str | None) -> None:
    """Write a Triton model repository with one model per gnet artifact, every config.pbtxt validated.

    \b
    Example:
      gnet triton-repo -o model_repository
      gnet triton-repo -o model_repository --triton-version 25.10 --cpu-instances 4
    """
    from gnet.serve import triton_repo
    from gnet.serve.triton_versions import server_tensorrt

    server_trt = server_tensorrt(triton_version, tensorrt_version)
    options = triton_repo.RepoOptions(max_batch=max_batch, cpu_instances=cpu_instances, gpu_instances=gpu_instances,
                                      queue_delay_us=max_queue_delay_us, server_tensorrt=server_trt)
    found = triton_repo.discover(artifacts, options)
    for name, why in found.skipped:
        err_console.print(f"[bold yellow]skipped:[/] {escape(name)}: {escape(why)}", highlight=False, soft_wrap=True)
    plans = [e for e in found.entries if e.spec.platform == "tensorrt_plan"]
    if plans and server_trt is None:
        err_console.print("[bold yellow]warning:[/] plans are not checked against a server's TensorRT; pass "
                          "--triton-version or --tensorrt-version", highlight=False, soft_wrap=True)
    written = triton_repo.write(found, output)
    for entry in found.entries:
        spec = entry.spec
        console.print(f"{escape(spec.name)}: {spec.platform}, {spec.kind} × {spec.instances}, max batch "
                      f"{spec.max_batch}, from {escape(entry.source.name)}", highlight=False, soft_wrap=True)
    console.print(f"wrote [bold]{escape(str(written))}[/] ({len(found.entries)} model{'' if len(found.entries) == 1 else 's'}; every config.pbtxt "
                  "parsed with Triton's model_config.proto)", soft_wrap=True)


@click.command("triton-stub-env")
@click.option("--path", type=click.Path(file_okay=False, path_type=Path),
              help="Where [default: $GNET_TRITON_STUB_ENV, else triton-stub in the virtual environment].")
@click.option("--check", "check_only", is_flag=True, help="Only check the existing one.")
@handle_errors
def triton_stub_env_cmd(path: Path | None, check_only: bool) -> None:
    """Create the environment Triton's python backend runs gnet's model in: numpy<2 and gnet's onnxruntime.

    Needs the package index once (make install-serve runs it); gnet serve never downloads.

    \b
    Example:
      gnet triton-stub-env
    """
    from gnet.serve import stub_env

    env = stub_env.check(path) if check_only else stub_env.create(path)
    console.print(f"Triton stub environment {escape(str(env.path))}: numpy {env.numpy}, onnxruntime {env.onnxruntime}",
                  highlight=False, soft_wrap=True)
