"""C++ against Python on OpenVINO, same artifact, same CPU: ``python tools/cpp_study.py [--artifacts DIR]``.

Prints, for ``googlenet_fp32.onnx`` and ``googlenet_int8_cpu.qdq.onnx`` in DIR (made by ``make bench``):
process start to first logits and peak RSS (``/usr/bin/time``) of ``gnet-infer MODEL IMAGE`` against the same
one image through Python's ``gnet.runners.OpenVINORunner`` and against ``gnet check MODEL`` (which also runs its
whole parity set); the size of ``gnet-infer`` and of each OpenVINO, TBB, libpng and libjpeg library it loads; then
runs ``gnet-bench --backend openvino-cpu:default,cpp-openvino:default --batch 1,64`` on the same folder.
docs/cpp.md holds the measured figures.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PYTHON_ONE_IMAGE = (
    "import sys, gnet\n"
    "from gnet.checks.images import load_folder\n"
    "art = gnet.Artifact.open(sys.argv[1])\n"
    "with gnet.runners.OpenVINORunner(art) as r:\n"
    "    print(r.infer(load_folder(sys.argv[2], art.image_size).data).argmax(1))\n"
)
LIBRARIES = re.compile(r"lib(openvino|tbb|png|jpeg)[^ ]*\.so[^ ]* => ([^ ]+)")


def timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of ``command`` under GNU time."""
    done = subprocess.run(["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True, check=True)
    wall, rss_kib = done.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss_kib) / 1024, done.stdout.strip()


def library_sizes(binary: Path) -> dict[str, int]:
    """Each shared library gnet-infer loads (ldd's, plus the plug-ins OpenVINO opens at run time)
    and its size in bytes."""
    found = {m.group(2) for m in LIBRARIES.finditer(subprocess.run(["ldd", str(binary)], capture_output=True,
                                                                  text=True, check=True).stdout)}
    openvino = Path(next(p for p in found if "libopenvino.so" in p)).parent
    found |= {str(p) for p in openvino.glob("libopenvino_intel_cpu_plugin.so")}
    found |= {str(p) for p in openvino.glob("libopenvino_onnx_frontend.so*")}
    return {Path(p).name: Path(p).stat().st_size for p in sorted(found)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default=str(ROOT / "artifacts"))
    parser.add_argument("--gnet-infer", default=str(ROOT / "build" / "cpp" / "gnet-infer"))
    args = parser.parse_args(argv)
    folder, binary = Path(args.artifacts), Path(args.gnet_infer)
    models = [folder / "googlenet_fp32.onnx", folder / "googlenet_int8_cpu.qdq.onnx"]
    with tempfile.TemporaryDirectory() as tmp:
        from gnet.checks.images import digits_split, digits_to_pil

        image = Path(tmp) / "digit.png"
        digits_to_pil(digits_split("eval")[1][:1])[0].save(image)
        for model in models:
            for label, command in (("gnet-infer", [str(binary), str(model), str(image)]),
                                   ("python, gnet.runners", [sys.executable, "-c", PYTHON_ONE_IMAGE, str(model), tmp]),
                                   ("gnet check", [str(BIN / "gnet"), "check", str(model)])):
                wall, rss, _ = timed(command)
                print(f"{model.name:32} {label:22} start to answer {wall:6.2f} s   peak RSS {rss:7.1f} MiB")
    sizes = library_sizes(binary)
    print(f"gnet-infer {binary.stat().st_size / 2**20:.2f} MiB; libraries it loads "
          f"{sum(sizes.values()) / 2**20:.1f} MiB: " + ", ".join(f"{n} {s / 2**20:.1f}" for n, s in sizes.items()))
    bench = [str(BIN / "gnet-bench"), "--artifacts", str(folder), "--precision", "fp32,int8", "--batch", "1,64",
             "--backend", "openvino-cpu:default,cpp-openvino:default"]
    print(" ".join(bench), flush=True)
    return subprocess.run(bench, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
