// SHA-256 (FIPS 180-4) as lowercase hex: how a plan is checked against its manifest, and an ONNX graph against the
// digest its export recorded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace gnet::detail {

// Fed in pieces (an ONNX graph is read in chunks rather than held twice).
class Sha256 {
public:
    void update(const void* data, std::size_t size);
    std::string hex();  // finishes the digest

private:
    std::array<std::uint32_t, 8> state_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    unsigned char block_[64] = {};
    std::size_t used_ = 0;      // bytes waiting in block_
    std::uint64_t total_ = 0;   // bytes fed
};

std::string sha256_hex(const void* data, std::size_t size);

}  // namespace gnet::detail
