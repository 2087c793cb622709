// What gnet needs from an ONNX file without a protobuf library: its metadata_props and its graph's inputs and
// outputs, read with a bounded protobuf wire-format walk that seeks past the weights.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gnet::detail {

struct OnnxValueInfo {
    std::string name;
    int elem_type = 0;                // onnx.TensorProto.DataType: 1 float, 10 float16
    std::vector<std::int64_t> dims;  // -1 where the dimension is symbolic (the batch)
};

struct OnnxFacts {
    std::map<std::string, std::string> metadata_props;  // ModelProto.metadata_props, every key
    std::vector<OnnxValueInfo> inputs;                  // graph inputs that are not initializers
    std::vector<OnnxValueInfo> outputs;
    std::string graph_sha256;  // of the serialized GraphProto, as export/metadata.py's graph_digest computes it
};

// Throws gnet::Error when the file is missing, truncated or not an ONNX model.
OnnxFacts read_onnx_facts(const std::filesystem::path& path);

// "float32", "float16", ... for an ONNX elem_type ("" for one gnet never uses).
std::string onnx_dtype(int elem_type);

}  // namespace gnet::detail
