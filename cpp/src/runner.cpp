// gnet::make_runner and what every runner's caller shares: which runtime runs an artifact, and top-k.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "gnet/gnet.hpp"
#include "manifest.hpp"
#include "runners.hpp"

namespace gnet {
namespace {

// A plan is run by the edition its manifest names; this library drives data-centre TensorRT only.
std::unique_ptr<Runner> make_plan_runner(const Artifact& artifact, const RunnerOptions& options) {
    const std::string name = artifact.path.filename().string();
    if (artifact.runtime == "tensorrt-rtx") {
        throw Error(name + " is a TensorRT-RTX plan (its manifest's runtime is tensorrt-rtx)",
                    "gnet's TensorRT runner loads data-centre TensorRT plans only, and TensorRT-RTX plans need "
                    "TensorRT-RTX's own runtime",
                    "serve or run it with TensorRT-RTX's runtime (gnet's Python EngineRunner), or run the ONNX it "
                    "was built from on OpenVINO",
                    ErrorKind::usage);
    }
    // The plan is checked against its manifest first: an edited plan is refused before any library is loaded.
    std::vector<char> plan = detail::read_plan(artifact);
#ifdef GNET_WITH_TENSORRT
    return detail::make_tensorrt_runner(artifact, std::move(plan), options);
#else
    (void)options;
    throw Error("this gnet was built without TensorRT, so it cannot run " + name,
                "CMake found no TensorRT headers or no CUDA toolkit when it was configured",
                "rebuild it with -DTensorRT_ROOT=<TensorRT folder> and the CUDA toolkit installed, or run the ONNX "
                "file on the CPU",
                ErrorKind::not_available);
#endif
}

}  // namespace

namespace detail {

void refuse_other_input_type(const Artifact& artifact, bool frames) {
    if ((artifact.input_type == FRAME_INPUT) == frames) return;
    const std::string name = artifact.path.filename().string();
    if (frames) {
        throw Error(name + " takes normalized float images (input type " + artifact.input_type + "), not uint8 frames",
                    "only artifacts exported with --input-type uint8-nhwc take frames",
                    "load its images with gnet::load_image and run them with Runner::infer", ErrorKind::usage);
    }
    throw Error(name + " takes uint8 camera frames (input type " + artifact.input_type + "), not float images",
                "its graph scales and normalizes the pixels itself",
                "load its images with gnet::load_frame and run them with Runner::infer_frames", ErrorKind::usage);
}

}  // namespace detail

std::unique_ptr<Runner> make_runner(const Artifact& artifact, const RunnerOptions& options) {
    if (artifact.file_type == FileType::plan) return make_plan_runner(artifact, options);
    return detail::make_openvino_runner(artifact, options);
}

std::vector<Prediction> top_k(const float* logits, int num_classes, int k,
                              const std::vector<std::string>& class_names) {
    std::vector<int> order(static_cast<std::size_t>(num_classes));
    std::iota(order.begin(), order.end(), 0);
    k = std::clamp(k, 0, num_classes);
    auto key = [&](int i) { return std::isnan(logits[i]) ? -INFINITY : logits[i]; };  // NaN last: a strict order
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
        return key(a) > key(b) || (key(a) == key(b) && a < b);
    });
    // softmax, shifted by the largest logit so that exp never overflows
    const float peak = *std::max_element(logits, logits + num_classes);
    double total = 0.0;
    for (int i = 0; i < num_classes; ++i) total += std::exp(double(logits[i]) - peak);
    std::vector<Prediction> out;
    for (int rank = 0; rank < k; ++rank) {
        int i = order[static_cast<std::size_t>(rank)];
        std::string label = static_cast<std::size_t>(i) < class_names.size() ? class_names[i] : "";
        out.push_back({i, label, logits[i], std::exp(double(logits[i]) - peak) / total});
    }
    return out;
}

std::string version() { return GNET_VERSION; }

bool has_tensorrt() {
#ifdef GNET_WITH_TENSORRT
    return true;
#else
    return false;
#endif
}

}  // namespace gnet
