// trtexec's timing rules, as gnet-bench applies them (bench/timing.py, bench/stats.py): warm up for warmup_ms
// (at least one call), then time calls until both duration_s has passed and `iterations` calls were timed.
#pragma once

#include <functional>
#include <vector>

namespace gnet_infer {

struct Timing {
    std::vector<double> latencies_ms;  // one per timed call, in call order
    int warmup_iterations = 0;
    double total_s = 0.0;              // the timed calls' wall time
};

Timing time_calls(const std::function<void()>& call, int iterations, double duration_s, double warmup_ms);

struct LatencyStats {
    double min = 0, mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0, std = 0, cv = 0;
};

// Percentiles by linear interpolation between closest ranks (numpy's default); std is the sample deviation.
LatencyStats summarize(std::vector<double> latencies_ms);

}  // namespace gnet_infer
