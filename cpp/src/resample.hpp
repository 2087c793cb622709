// Pillow's resize (Image.resize with Resampling.BILINEAR, what torchvision's Resize does to a PIL image),
// reimplemented for 8-bit RGB so that the C++ input tensor equals Python's.
#pragma once

#include <cstdint>
#include <vector>

namespace gnet::detail {

// Interleaved RGB, width × height → out_width × out_height.
std::vector<std::uint8_t> resize_bilinear(const std::vector<std::uint8_t>& rgb, int width, int height,
                                          int out_width, int out_height);

}  // namespace gnet::detail
