// One runner per runtime, behind gnet::Runner; gnet::make_runner (runner.cpp) picks one by the artifact.
#pragma once

#include <memory>
#include <vector>

#include "gnet/gnet.hpp"

namespace gnet::detail {

std::unique_ptr<Runner> make_openvino_runner(const Artifact& artifact, const RunnerOptions& options);

// Float images (frames false: load_image, Runner::infer) or uint8 frames (frames true: load_frame,
// Runner::infer_frames) asked of an artifact of the other input type: one sentence of kind usage naming the calls
// to make instead.
void refuse_other_input_type(const Artifact& artifact, bool frames);

#ifdef GNET_WITH_TENSORRT
// plan: the bytes read_plan checked against the manifest.
std::unique_ptr<Runner> make_tensorrt_runner(const Artifact& artifact, std::vector<char> plan,
                                             const RunnerOptions& options);
#endif

}  // namespace gnet::detail
