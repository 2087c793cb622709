// float32 tensors and uint8 camera frames as NumPy .npy files (format versions 1.0 and 2.0, C order,
// little-endian): how tests and the bench hand gnet-infer the same pixels Python ran, and get its logits back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnet_infer {

struct Tensor {
    std::vector<std::int64_t> shape;
    std::string dtype;                // "float32" (data) or "uint8" (frames)
    std::vector<float> data;
    std::vector<std::uint8_t> frames;
};

// Refuses, in one sentence, anything but a float32 ('<f4') or uint8 ('|u1'), C-order .npy whose data fills the
// file.
Tensor read_npy(const std::string& path);

// The bytes of a version 1.0 .npy holding `data` with `shape`: float32, or uint8 frames.
std::string npy_bytes(const std::vector<std::int64_t>& shape, const std::vector<float>& data);
std::string npy_bytes(const std::vector<std::int64_t>& shape, const std::vector<std::uint8_t>& frames);

}  // namespace gnet_infer
