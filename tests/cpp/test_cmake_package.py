"""The library as another CMake project uses it: cmake --install, then find_package(gnet) and gnet::gnet."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cpp import gnet_infer as cpp

CONSUMER_CMAKE = """cmake_minimum_required(VERSION 3.18)
project(consumer CXX)
find_package(gnet 0.1 REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE gnet::gnet)
"""
CONSUMER_MAIN = """#include <gnet/gnet.hpp>
#include <iostream>
template <typename Call> bool refused_as_usage(Call call) {  // a misuse: a gnet::Error of kind usage
    try {
        call();
    } catch (const gnet::Error& error) {
        return error.kind() == gnet::ErrorKind::usage;
    }
    return false;
}
int main(int argc, char** argv) {
    try {
        gnet::Artifact artifact = gnet::open_artifact(argv[1]);
        auto runner = gnet::make_runner(artifact);
        std::vector<float> image = gnet::load_image(argv[2], artifact);
        std::vector<float> logits = runner->infer(image.data(), 1);
        gnet::Prediction best = gnet::top_k(logits.data(), artifact.num_classes, 1, artifact.class_names)[0];
        std::cout << artifact.precision << " " << runner->runtime() << " " << best.label << "\\n";
        if (argc > 3) {  // a camera-frame artifact: the image as its frame, and each input type's calls refused
            gnet::Artifact frames = gnet::open_artifact(argv[3]);
            auto frame_runner = gnet::make_runner(frames);
            std::vector<std::uint8_t> frame = gnet::load_frame(argv[2], frames);
            std::vector<float> out = frame_runner->infer_frames(frame.data(), 1);
            std::cout << frames.input_type << " " << gnet::top_k(out.data(), frames.num_classes, 1)[0].index << " "
                      << refused_as_usage([&] { frame_runner->infer(image.data(), 1); })
                      << refused_as_usage([&] { runner->infer_frames(frame.data(), 1); })
                      << refused_as_usage([&] { gnet::load_image(argv[2], frames); })
                      << refused_as_usage([&] { gnet::load_frame(argv[2], artifact); }) << "\\n";
        }
    } catch (const gnet::Error& error) {
        std::cerr << "error: " << error.what() << "\\n";
        return 1;
    }
}
"""


def _run(*command: object, cwd: Path) -> None:
    done = subprocess.run([str(c) for c in command], check=False, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


@pytest.mark.slow
def test_find_package_gnet_after_install(gnet_infer: Path, fp32_onnx: Path, frame_graphs: dict[str, Path],
                                        tmp_path: Path):
    """A consumer runs a float artifact and a camera-frame one (load_frame, infer_frames), and each input type's
    calls on the other are ErrorKind::usage."""
    from gnet.checks.images import digits_split, digits_to_pil

    prefix, project = tmp_path / "prefix", tmp_path / "consumer"
    _run("cmake", "--install", cpp.BUILD_DIR, "--prefix", prefix, cwd=tmp_path)
    assert (prefix / "bin" / "gnet-infer").is_file() and (prefix / "include" / "gnet" / "gnet.hpp").is_file()
    project.mkdir()
    (project / "CMakeLists.txt").write_text(CONSUMER_CMAKE)
    (project / "main.cpp").write_text(CONSUMER_MAIN)
    openvino = next(a for a in cpp.cmake_arguments() if a.startswith("-DOpenVINO_DIR="))
    _run("cmake", "-S", project, "-B", project / "build", "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}", openvino,
         cwd=tmp_path)
    _run("cmake", "--build", project / "build", cwd=tmp_path)
    _, images, labels = digits_split("eval")
    digits_to_pil(images[:1])[0].save(tmp_path / "digit.png")
    done = subprocess.run([str(project / "build" / "consumer"), str(fp32_onnx), str(tmp_path / "digit.png"),
                           str(frame_graphs["fp32"])], check=False, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == f"fp32 openvino {labels[0]}\nuint8-nhwc {labels[0]} 1111\n", (
        done.stdout + done.stderr)
    installed = subprocess.run([str(prefix / "bin" / "gnet-infer"), "--version"], check=False, capture_output=True,
                               text=True)
    assert installed.returncode == 0 and installed.stdout.startswith("gnet-infer 0.1.0")
