// What gnet-infer prints: the top classes of each image (text or JSON), and the --bench object.
#pragma once

#include <string>
#include <vector>

#include "bench.hpp"
#include "gnet/gnet.hpp"

namespace gnet_infer {

struct ImageResult {
    std::string image;
    std::vector<gnet::Prediction> top;
};

std::string text_report(const std::vector<ImageResult>& results);

// [{"image": ..., "top": [{"index": i, "label": ..., "score": ...}, ...]}, ...]; label is null when the artifact
// records no class names, score the softmax probability.
std::string json_report(const std::vector<ImageResult>& results);

struct BenchFacts {
    const gnet::Artifact* artifact = nullptr;
    std::string runtime;
    int batch = 0;
    int threads = 0;
    double warmup_ms = 0;
};

std::string bench_json(const BenchFacts& facts, const Timing& timing);

// --export-times: each timed call's latency in milliseconds, in call order, as one JSON list.
std::string times_json(const Timing& timing);

}  // namespace gnet_infer
