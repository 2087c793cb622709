// gnet::load_image: an image file → the float32 CHW tensor gnet's Python makes of it (checks/images.py):
// torchvision's ImageNet transform on a PIL image converted to RGB, that is
//   resize the short side to resize_short_side (long side int(resize * long / short)), bilinear antialiased;
//   crop the centre S × S square, its top-left corner at int(round((side - S) / 2.0)) (round half to even);
//   x = (pixel / 255 - mean) / std per channel, in float32, in that order of operations.
// gnet::load_frame: the same resize and crop, the pixels left as they are (uint8 HWC RGB): what a camera-frame
// artifact (input type uint8-nhwc) takes, its graph doing the scaling and normalizing.
#include <algorithm>
#include <cstdint>

#include "gnet/gnet.hpp"
#include "image_decode.hpp"
#include "resample.hpp"
#include "runners.hpp"

namespace gnet {
namespace {

// Python's round() of side / 2.0: halves go to the even neighbour.
int round_half_even_half(int side) {
    int half = side / 2;
    return side % 2 != 0 && half % 2 != 0 ? half + 1 : half;
}

void refuse_unsupported(const Artifact& artifact, bool frames) {
    detail::refuse_other_input_type(artifact, frames);
    const Preprocessing& p = artifact.preprocessing;
    const std::string where = artifact.path.string();
    if (!p.recorded) {
        throw Error(where + " records no preprocessing (resize, crop, mean, std)",
                    "it can be fed tensors (gnet-infer --input-tensor) but not images",
                    "re-export it with gnet export (and rebuild a plan with gnet build)");
    }
    // A float artifact: NCHW float32 in [0, 1], normalized by the caller; a frame artifact: NHWC uint8 pixels in
    // [0, 255], normalized in the graph.
    bool supported = p.color == "RGB" && p.interpolation == "bilinear" &&
                     (frames ? p.layout == "NHWC" && p.dtype == "uint8" && p.normalized_in_graph &&
                                   p.value_range[0] == 0.0 && p.value_range[1] == 255.0
                             : p.layout == "NCHW" && p.dtype == "float32" && !p.normalized_in_graph &&
                                   p.value_range[0] == 0.0 && p.value_range[1] == 1.0);
    if (!supported) {
        throw Error("gnet cannot preprocess images for " + where,
                    "it asks for layout " + p.layout + " " + p.dtype + ", colour " + p.color + ", " +
                        p.interpolation + " resizing, and gnet implements NCHW float32 values in [0, 1] for " +
                        FLOAT_INPUT + " input and NHWC uint8 pixels in [0, 255], normalized in the graph, for " +
                        FRAME_INPUT + " input, RGB, bilinear");
    }
    if (p.center_crop != artifact.image_size || p.resize_short_side < p.center_crop) {
        throw Error(where + " has unusable gnet metadata",
                    "its preprocessing resizes to " + std::to_string(p.resize_short_side) + " and crops " +
                        std::to_string(p.center_crop) + " for a " + std::to_string(artifact.image_size) + "-px graph",
                    "re-export it with gnet export");
    }
}

// torchvision's _compute_resized_output_size for one requested size (the short side).
std::pair<int, int> resized_size(const std::filesystem::path& path, int width, int height, int short_side) {
    int shorter = std::min(width, height), longer = std::max(width, height);
    double new_long = std::int64_t(short_side) * longer / static_cast<double>(shorter);
    if (new_long * short_side > double(detail::MAX_IMAGE_PIXELS)) {  // a thin strip: the resize itself is a bomb
        throw Error("cannot read image " + path.string(),
                    "it is " + std::to_string(width) + "×" + std::to_string(height) + " pixels, which resized to a " +
                        std::to_string(short_side) + "-pixel short side would exceed the 89,478,485 pixels a "
                        "decompression-bomb check allows",
                    "crop it to a less extreme shape");
    }
    int long_side = static_cast<int>(new_long);
    return width <= height ? std::make_pair(short_side, long_side) : std::make_pair(long_side, short_side);
}

// Decode, resize and crop: the centre S × S square of the resized image, uint8 RGB HWC.
std::vector<std::uint8_t> cropped_pixels(const std::filesystem::path& path, const Preprocessing& p) {
    detail::RgbImage image = detail::decode_image(path);
    auto [width, height] = resized_size(path, image.width, image.height, p.resize_short_side);
    std::vector<std::uint8_t> resized = detail::resize_bilinear(image.pixels, image.width, image.height, width, height);
    const int s = p.center_crop;
    const int top = round_half_even_half(height - s), left = round_half_even_half(width - s);
    std::vector<std::uint8_t> out(std::size_t(3) * s * s);
    for (int y = 0; y < s; ++y) {
        const std::uint8_t* row = resized.data() + (std::size_t(top + y) * width + left) * 3;
        std::copy(row, row + std::size_t(3) * s, out.begin() + std::ptrdiff_t(std::size_t(y) * s * 3));
    }
    return out;
}

}  // namespace

std::vector<float> load_image(const std::filesystem::path& path, const Artifact& artifact) {
    refuse_unsupported(artifact, false);
    const Preprocessing& p = artifact.preprocessing;
    std::vector<std::uint8_t> pixels = cropped_pixels(path, p);
    const int s = p.center_crop;
    std::vector<float> out(std::size_t(3) * s * s);
    for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < s; ++y) {
            const std::uint8_t* row = pixels.data() + std::size_t(y) * s * 3;
            float* dst = out.data() + (std::size_t(c) * s + y) * s;
            for (int x = 0; x < s; ++x) {
                float value = static_cast<float>(row[x * 3 + c]) / 255.0f;
                dst[x] = (value - p.mean[c]) / p.std[c];
            }
        }
    }
    return out;
}

std::vector<std::uint8_t> load_frame(const std::filesystem::path& path, const Artifact& artifact) {
    refuse_unsupported(artifact, true);
    return cropped_pixels(path, artifact.preprocessing);
}

}  // namespace gnet
