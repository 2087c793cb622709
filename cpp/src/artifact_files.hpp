// One reader per kind of artifact file; gnet::open_artifact (artifact.cpp) picks one by the file's name.
#pragma once

#include <filesystem>

#include "gnet/gnet.hpp"

namespace gnet::detail {

Artifact open_onnx(const std::filesystem::path& path);         // artifact.cpp
Artifact open_openvino_ir(const std::filesystem::path& path);  // openvino_ir.cpp
Artifact open_plan(const std::filesystem::path& path);         // manifest.cpp

}  // namespace gnet::detail
