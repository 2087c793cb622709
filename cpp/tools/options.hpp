// gnet-infer's command line: what was asked, parsed and checked before any work starts.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace gnet_infer {

struct Options {
    std::string model;
    std::vector<std::string> images;
    int top_k = 5;
    int batch = 1;
    int threads = 0;                 // OpenVINO's inference threads; 0: OpenVINO's default
    bool json = false;
    std::string json_path;           // empty: the JSON goes to stdout
    bool bench = false;
    int iterations = 10;             // trtexec's defaults: at least 10 iterations, 3 s, after 200 ms of warm-up
    double duration_s = 3.0;
    double warmup_ms = 200.0;
    std::string input_tensor;        // a float32 NCHW .npy (uint8 NHWC for a frame artifact) fed instead of images
    std::string output_tensor;       // where the float32 logits go as .npy
    std::string write_input;         // where the preprocessed input tensor (or frames) goes as .npy
    std::string export_times;        // --bench: where each timed call's latency goes, a JSON list (trtexec's --exportTimes)
    bool help = false;
    bool version = false;
};

// The command line could not be understood (an unknown option, a missing value): exit 2 with the usage line.
class UsageProblem : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws UsageProblem for what cannot be parsed, gnet::Error (kind usage) for a value out of range.
Options parse_options(int argc, char** argv);

std::string usage_line();
std::string help_text();

}  // namespace gnet_infer
