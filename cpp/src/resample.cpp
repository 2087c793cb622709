// Pillow's ImagingResample (src/libImaging/Resample.c) for the bilinear filter on 8-bit images, rewritten from its
// description: a separable resize, one pass per axis (order below), each output sample a weighted sum of the
// input samples under a triangle filter whose support widens with the downscale factor (antialiasing). Weights
// are computed in double, normalized to sum 1, then rounded to 22-bit fixed point; each pass rounds its sums back
// to 8 bits, so the intermediate image is 8-bit as in Pillow. Every expression keeps Pillow's order of
// operations (and the float box it passes), because a different rounding order changes pixels by one level.
#include "resample.hpp"

#include <algorithm>
#include <cmath>

namespace gnet::detail {
namespace {

constexpr int PRECISION_BITS = 32 - 8 - 2;

struct Weights {
    int ksize = 0;                      // weights per output sample (the longest support)
    std::vector<int> first, count;      // the input samples each output sample reads
    std::vector<std::int32_t> fixed;    // out_size × ksize, fixed point
};

double triangle(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

std::int32_t to_fixed(double weight) {
    double scaled = weight * (1 << PRECISION_BITS);
    return static_cast<std::int32_t>(weight < 0 ? -0.5 + scaled : 0.5 + scaled);
}

Weights precompute(int in_size, int out_size) {
    const float box_start = 0.0f, box_end = static_cast<float>(in_size);  // Pillow's box is float
    const double scale = static_cast<double>(box_end - box_start) / out_size;
    const double filter_scale = std::max(scale, 1.0);
    const double support = 1.0 * filter_scale;  // the bilinear filter's support is 1
    Weights w;
    w.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    w.first.resize(out_size);
    w.count.resize(out_size);
    w.fixed.assign(std::size_t(out_size) * w.ksize, 0);
    std::vector<double> k(w.ksize);
    for (int xx = 0; xx < out_size; ++xx) {
        const double center = box_start + (xx + 0.5) * scale;
        const double ss = 1.0 / filter_scale;
        int xmin = static_cast<int>(center - support + 0.5);  // truncation, as Pillow's cast
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double sum = 0.0;
        for (int x = 0; x < xmax; ++x) {
            k[x] = triangle((x + xmin - center + 0.5) * ss);
            sum += k[x];
        }
        for (int x = 0; x < xmax; ++x) {
            if (sum != 0.0) k[x] /= sum;
            w.fixed[std::size_t(xx) * w.ksize + x] = to_fixed(k[x]);
        }
        w.first[xx] = xmin;
        w.count[xx] = xmax;
    }
    return w;
}

std::uint8_t clip8(std::int32_t sum) {
    std::int32_t value = sum >> PRECISION_BITS;
    return static_cast<std::uint8_t>(std::clamp(value, 0, 255));
}

// Rows [row_begin, row_end) of src, resampled along x.
std::vector<std::uint8_t> horizontal(const std::vector<std::uint8_t>& src, int width, int row_begin, int row_end,
                                     int out_width) {
    const Weights w = precompute(width, out_width);
    std::vector<std::uint8_t> out(std::size_t(out_width) * (row_end - row_begin) * 3);
    for (int y = row_begin; y < row_end; ++y) {
        const std::uint8_t* row = src.data() + std::size_t(y) * width * 3;
        std::uint8_t* dst = out.data() + std::size_t(y - row_begin) * out_width * 3;
        for (int xx = 0; xx < out_width; ++xx) {
            const std::int32_t* k = &w.fixed[std::size_t(xx) * w.ksize];
            for (int c = 0; c < 3; ++c) {
                std::int32_t sum = 1 << (PRECISION_BITS - 1);
                for (int x = 0; x < w.count[xx]; ++x) sum += row[(x + w.first[xx]) * 3 + c] * k[x];
                dst[xx * 3 + c] = clip8(sum);
            }
        }
    }
    return out;
}

// src (width × rows) resampled along y with precomputed weights whose first rows are relative to src.
std::vector<std::uint8_t> vertical(const std::vector<std::uint8_t>& src, int width, const Weights& w,
                                   int row_offset, int out_height) {
    std::vector<std::uint8_t> out(std::size_t(width) * out_height * 3);
    const std::size_t stride = std::size_t(width) * 3;
    for (int yy = 0; yy < out_height; ++yy) {
        const std::int32_t* k = &w.fixed[std::size_t(yy) * w.ksize];
        const int first = w.first[yy] - row_offset;
        for (std::size_t xc = 0; xc < stride; ++xc) {
            std::int32_t sum = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < w.count[yy]; ++y) sum += src[std::size_t(first + y) * stride + xc] * k[y];
            out[std::size_t(yy) * stride + xc] = clip8(sum);
        }
    }
    return out;
}

}  // namespace

std::vector<std::uint8_t> resize_bilinear(const std::vector<std::uint8_t>& rgb, int width, int height,
                                          int out_width, int out_height) {
    // As Pillow: a pass runs only where that side changes. Pillow 13 runs the vertical pass first when the height
    // shrinks by more than twice as many pixels as the width (earlier Pillow always ran the horizontal pass
    // first); the order matters, because the intermediate image is rounded to 8 bits.
    const bool need_horizontal = out_width != width, need_vertical = out_height != height;
    const bool horizontal_first = !(height - out_height > 0 && height - out_height > (width - out_width) * 2);
    const Weights rows = precompute(height, out_height);
    if (!need_horizontal) return need_vertical ? vertical(rgb, width, rows, 0, out_height) : rgb;
    if (!need_vertical) return horizontal(rgb, width, 0, height, out_width);
    if (!horizontal_first) {
        return horizontal(vertical(rgb, width, rows, 0, out_height), width, 0, out_height, out_width);
    }
    // The horizontal pass covers only the rows the vertical pass will read.
    const int row_begin = rows.first.front(), row_end = rows.first.back() + rows.count.back();
    std::vector<std::uint8_t> across = horizontal(rgb, width, row_begin, row_end, out_width);
    return vertical(across, out_width, rows, row_begin, out_height);
}

}  // namespace gnet::detail
