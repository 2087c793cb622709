// PNG and JPEG files → 8-bit RGB pixels, as Pillow's Image.open(...).convert("RGB") gives them, refusing what gnet
// does not feed (grayscale, 16-bit, CMYK, a decompression bomb) in one sentence.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace gnet::detail {

constexpr std::uint64_t MAX_IMAGE_PIXELS = 89478485;  // checks/images.py: Pillow's decompression-bomb threshold

struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> pixels;  // row-major, interleaved R, G, B
};

RgbImage decode_image(const std::filesystem::path& path);

}  // namespace gnet::detail
