// gnet's C++ library: open an artifact gnet wrote (an ONNX file, an OpenVINO IR, a TensorRT plan with its
// manifest), read the contract it carries, preprocess images exactly as gnet's Python does, and run it.
//
//     gnet::Artifact artifact = gnet::open_artifact("artifacts/googlenet_fp32.onnx");
//     auto runner = gnet::make_runner(artifact);                   // OpenVINO for .onnx/.xml, TensorRT for .plan
//     std::vector<float> image = gnet::load_image("cat.png", artifact);   // float32 CHW, normalized
//     std::vector<float> logits = runner->infer(image.data(), 1);         // [batch, num_classes]
//     for (const gnet::Prediction& p : gnet::top_k(logits.data(), artifact.num_classes, 5)) ...
//
// An artifact exported with --input-type uint8-nhwc takes camera frames instead (artifact.input_type):
//     std::vector<std::uint8_t> frame = gnet::load_frame("cat.png", artifact);  // uint8 HWC RGB, S × S × 3
//     std::vector<float> logits = runner->infer_frames(frame.data(), 1);        // the caller's bytes, not copied
//
// The words are those of gnet's Python front door (docs/design.md, Glossary): an artifact is a file gnet
// wrote, a runtime is the library that runs it, a precision is what its graph encodes, a runner opens an
// artifact on one runtime. Every failure is a gnet::Error whose parts form one sentence (docs/cpp.md).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gnet {

// What kind of failure an Error is, so that code can react to it without reading its text.
enum class ErrorKind {
    general,        // a bad file or value: a missing, corrupt or foreign artifact, an unreadable image
    usage,          // an option or argument value gnet cannot use
    not_available,  // a library or device this step needs is missing here (TensorRT, a CUDA GPU)
    compatibility,  // a plan built for another TensorRT or GPU than this machine's
    cuda,           // a CUDA call failed
};

// One failure, as three parts that a command line joins into one sentence: what failed, why, and what to do.
// what() is that sentence ("headline: why; remedy"), always a single line.
class Error : public std::runtime_error {
public:
    explicit Error(std::string headline, std::string why = "", std::string remedy = "",
                   ErrorKind kind = ErrorKind::general);
    const std::string& headline() const noexcept { return headline_; }
    const std::string& why() const noexcept { return why_; }
    const std::string& remedy() const noexcept { return remedy_; }
    ErrorKind kind() const noexcept { return kind_; }

private:
    std::string headline_, why_, remedy_;
    ErrorKind kind_;
};

enum class FileType { onnx, openvino_ir, plan };

// What an artifact's input takes (gnet.input_type, a manifest's "input_type"; absent: FLOAT_INPUT).
inline constexpr const char* FLOAT_INPUT = "float-nchw";  // normalized float images [batch, 3, S, S]
inline constexpr const char* FRAME_INPUT = "uint8-nhwc";  // uint8 RGB camera frames [batch, S, S, 3]

// One input or output tensor of the graph: its name, element type ("float32", "float16", "uint8") and shape
// (-1: dynamic).
struct TensorInfo {
    std::string name;
    std::string dtype;
    std::vector<std::int64_t> shape;
};

// What a deployment must do to an image before the input tensor (gnet.preprocessing, or the manifest's copy):
// resize the short side to resize_short_side (bilinear, antialiased), crop the centre center_crop square,
// scale to value_range, then (x - mean) / std per channel, laid out as layout in colour order color. A frame
// artifact's (layout NHWC, dtype uint8, value_range [0, 255], normalized_in_graph) stops after the crop: the
// graph scales and normalizes the pixels itself.
struct Preprocessing {
    bool recorded = false;  // false: the artifact records none (images cannot be fed, tensors can)
    std::string layout;
    std::string color;
    std::string interpolation;
    std::string dtype = "float32";     // what the caller hands the graph: "float32", or "uint8" pixels
    bool normalized_in_graph = false;  // true: mean and std are applied by the graph, not by the caller
    int resize_short_side = 0;
    int center_crop = 0;
    std::array<double, 2> value_range{0.0, 1.0};
    std::array<float, 3> mean{};
    std::array<float, 3> std{};  // named as the contract's key; last, since it hides namespace std in this struct
};

// What a plan's manifest records about the engine (set only for FileType::plan).
struct EngineManifest {
    std::filesystem::path path;  // googlenet_fp16.json beside googlenet_fp16.plan
    int format_version = 0;
    std::string plan_file;
    std::string plan_sha256;
    std::uint64_t plan_bytes = 0;
    std::string tensorrt_version;            // the edition's version at build time, e.g. "10.13.0.35"
    bool version_compatible = false;         // data-centre TensorRT only
    std::string hardware_compatibility;      // data-centre TensorRT only: none, ampere+, same-cc
    std::string compute_capability;          // the build GPU's, e.g. "9.0" (empty for TensorRT-RTX)
    std::string device_name;
    std::string onnx_file;                   // the ONNX the plan was built from, relative to the plan's folder
    int min_batch = 1;
    int max_batch = 0;
};

// An artifact gnet wrote and the contract it carries, read from the file itself (never typed by hand).
struct Artifact {
    std::filesystem::path path;
    FileType file_type = FileType::onnx;
    std::string runtime;      // the library that runs it: "openvino", "tensorrt" or "tensorrt-rtx"
    std::string precision;    // what the graph encodes: "fp32", "fp16" or "int8"
    std::string int8_target;  // INT8 only: "tensorrt" or "cpu" (the Q/DQ format), when recorded
    std::string weights;      // where the weights came from, as the export recorded it
    std::string input_type = FLOAT_INPUT;  // FLOAT_INPUT, or FRAME_INPUT: uint8 camera frames (load_frame)
    int image_size = 0;
    int num_classes = 0;
    std::vector<std::string> class_names;  // the label of each output index; empty when the weights carry none
    TensorInfo input;
    TensorInfo output;
    Preprocessing preprocessing;
    std::map<std::string, std::string> metadata;  // every gnet.* entry as stored (ONNX, IR); empty for plans
    EngineManifest manifest;                       // plans only
};

// Open an artifact by its file name: .onnx (gnet.* metadata_props), .xml (an OpenVINO IR and its .bin, gnet's
// rt_info) or a plan (.plan, .rtx.plan) with its manifest beside it. A file that is not gnet's is refused.
Artifact open_artifact(const std::filesystem::path& path);

struct RunnerOptions {
    int threads = 0;       // OpenVINO's INFERENCE_NUM_THREADS; 0: the runtime's default
    int device_index = 0;  // TensorRT: the CUDA device
};

// Runs one artifact on one runtime. Loading (make_runner) is apart from running (infer), so timing infer
// times inference only.
class Runner {
public:
    virtual ~Runner() = default;
    // float32 NCHW images, batch × 3 × image_size × image_size, C order → float32 logits, batch × num_classes.
    // An artifact whose input_type is FRAME_INPUT refuses them (ErrorKind::usage): it takes infer_frames.
    virtual std::vector<float> infer(const float* images, int batch) = 0;
    // uint8 RGB frames, batch × image_size × image_size × 3, C order (NHWC), as load_frame makes them → float32
    // logits. The caller's bytes go to the runtime as they are, with no copy or conversion on the host (OpenVINO:
    // a tensor wrapping this pointer; TensorRT: the host-to-device copy reads it); they must stay valid for the
    // call. A FLOAT_INPUT artifact refuses them (ErrorKind::usage): it takes infer.
    virtual std::vector<float> infer_frames(const std::uint8_t* frames, int batch) = 0;
    virtual std::string runtime() const = 0;
    // The largest batch one infer call takes (a plan's profile); 0: no limit.
    virtual int max_batch() const { return 0; }
};

// The runner of an artifact: OpenVINO on the CPU for .onnx and .xml, data-centre TensorRT for plans.
std::unique_ptr<Runner> make_runner(const Artifact& artifact, const RunnerOptions& options = {});

// Decode a PNG or JPEG and preprocess it as the artifact's contract says: float32 CHW, 3 × S × S.
// A FRAME_INPUT artifact refuses it (ErrorKind::usage): it takes load_frame's pixels.
std::vector<float> load_image(const std::filesystem::path& path, const Artifact& artifact);

// Decode a PNG or JPEG and resize and crop it exactly as load_image does, without scaling or normalizing: the
// frame a FRAME_INPUT artifact takes, uint8 RGB HWC, S × S × 3. A FLOAT_INPUT artifact refuses it
// (ErrorKind::usage).
std::vector<std::uint8_t> load_frame(const std::filesystem::path& path, const Artifact& artifact);

struct Prediction {
    int index = 0;
    std::string label;   // the class name, empty when the artifact records none
    float logit = 0.0f;
    double score = 0.0;  // softmax probability over all classes
};

// The k highest-scoring classes of one row of logits, best first (ties: lower index first).
std::vector<Prediction> top_k(const float* logits, int num_classes, int k,
                              const std::vector<std::string>& class_names = {});

// The library's version ("0.1.0") and whether it was built with TensorRT support.
std::string version();
bool has_tensorrt();

}  // namespace gnet
