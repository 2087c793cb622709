#include "bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace gnet_infer {
namespace {

using Clock = std::chrono::steady_clock;

double milliseconds(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(const std::vector<double>& sorted, double q) {
    double position = (sorted.size() - 1) * q / 100.0;
    std::size_t low = static_cast<std::size_t>(std::floor(position));
    std::size_t high = std::min(low + 1, sorted.size() - 1);
    return sorted[low] + (sorted[high] - sorted[low]) * (position - double(low));
}

}  // namespace

Timing time_calls(const std::function<void()>& call, int iterations, double duration_s, double warmup_ms) {
    Timing timing;
    const Clock::time_point warm_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                          std::chrono::duration<double, std::milli>(warmup_ms));
    do {
        call();
        ++timing.warmup_iterations;
    } while (Clock::now() < warm_end);
    const Clock::time_point start = Clock::now();
    const double duration_ms = duration_s * 1000.0;
    while (true) {
        Clock::time_point before = Clock::now();
        call();
        Clock::time_point after = Clock::now();
        timing.latencies_ms.push_back(milliseconds(after - before));
        if (milliseconds(after - start) >= duration_ms && int(timing.latencies_ms.size()) >= iterations) break;
    }
    timing.total_s = milliseconds(Clock::now() - start) / 1000.0;
    return timing;
}

LatencyStats summarize(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    LatencyStats s;
    const double n = double(values.size());
    s.min = values.front();
    s.max = values.back();
    s.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    double squares = 0.0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.std = values.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
    s.cv = s.mean > 0 ? s.std / s.mean : 0.0;
    s.p50 = percentile(values, 50);
    s.p90 = percentile(values, 90);
    s.p95 = percentile(values, 95);
    s.p99 = percentile(values, 99);
    return s;
}

}  // namespace gnet_infer
