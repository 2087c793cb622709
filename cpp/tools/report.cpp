#include "report.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace gnet_infer {
namespace {

using nlohmann::ordered_json;

// Paths from the command line need not be UTF-8: invalid bytes become U+FFFD rather than an exception.
std::string dump(const ordered_json& doc) {
    return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string text_report(const std::vector<ImageResult>& results) {
    std::string out;
    char line[64];
    for (const ImageResult& r : results) {
        out += r.image + "\n";
        for (const gnet::Prediction& p : r.top) {
            std::snprintf(line, sizeof line, "  %7.2f%%  ", p.score * 100.0);
            out += line + (p.label.empty() ? "class " + std::to_string(p.index) : p.label) +
                   "  (index " + std::to_string(p.index) + ")\n";
        }
    }
    return out;
}

std::string json_report(const std::vector<ImageResult>& results) {
    ordered_json list = ordered_json::array();
    for (const ImageResult& r : results) {
        ordered_json top = ordered_json::array();
        for (const gnet::Prediction& p : r.top) {
            top.push_back({{"index", p.index}, {"label", p.label.empty() ? ordered_json() : ordered_json(p.label)},
                           {"score", p.score}});
        }
        list.push_back({{"image", r.image}, {"top", top}});
    }
    return dump(list);
}

std::string bench_json(const BenchFacts& facts, const Timing& timing) {
    LatencyStats s = summarize(timing.latencies_ms);
    double total_ms = 0.0;
    for (double v : timing.latencies_ms) total_ms += v;
    ordered_json doc = {
        {"format", "gnet-infer-bench"},
        {"format_version", 1},
        {"artifact", facts.artifact->path.string()},
        {"runtime", facts.runtime},
        {"precision", facts.artifact->precision},
        {"batch", facts.batch},
        {"threads", facts.threads},
        {"iterations", timing.latencies_ms.size()},
        {"warmup_ms", facts.warmup_ms},
        {"warmup_iterations", timing.warmup_iterations},
        {"duration_s", timing.total_s},
        {"latency_ms", {{"min", s.min}, {"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p95", s.p95},
                        {"p99", s.p99}, {"max", s.max}, {"std", s.std}, {"cv", s.cv}}},
        {"throughput_img_s", total_ms > 0 ? facts.batch * timing.latencies_ms.size() / (total_ms / 1000.0) : 0.0},
    };
    return dump(doc);
}

std::string times_json(const Timing& timing) {
    return ordered_json(timing.latencies_ms).dump() + "\n";  // one line: a long run times thousands of calls
}

}  // namespace gnet_infer
