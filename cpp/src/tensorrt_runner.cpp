// The TensorRT runner: a data-centre TensorRT plan on a CUDA GPU, with libnvinfer loaded at run time (dlopen).
//
// Why dlopen rather than linking libnvinfer: gnet builds, ships and runs its OpenVINO side on machines without
// TensorRT, and a missing TensorRT becomes one sentence when a plan is opened instead of a loader error before
// main. The interface comes from the TensorRT headers the build found (-DTensorRT_ROOT): its classes' virtual
// tables differ between major versions, so the library found must have the headers' major version; its minor
// and patch are checked against the manifest as plan_loader.py checks them.
//
// The order of the checks follows engines/plan_loader.py, except that the plan's hash was checked before this
// file's code runs (runner.cpp), because it needs no library: library, TensorRT version, CUDA device, compute
// capability, deserialize, execution context.
//
// A camera-frame plan (the manifest's input_type uint8-nhwc) has a uint8 input binding, [batch, S, S, 3]:
// infer_frames' host-to-device copy reads the caller's bytes as they are (one byte an element, no staging).
#include <dlfcn.h>

#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>

#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

#include "half.hpp"
#include "manifest.hpp"
#include "runners.hpp"

namespace gnet::detail {
namespace {

#define GNET_STRINGIFY2(x) #x
#define GNET_STRINGIFY(x) GNET_STRINGIFY2(x)
constexpr int HEADER_MAJOR = NV_TENSORRT_MAJOR;
const char* const LIBRARIES[] = {"libnvinfer.so." GNET_STRINGIFY(NV_TENSORRT_MAJOR), "libnvinfer.so.11",
                                 "libnvinfer.so.10", "libnvinfer.so"};

// TensorRT's messages: errors kept for the sentence that needs one, the rest dropped (a library prints nothing).
class Logger : public nvinfer1::ILogger {
public:
    void log(Severity severity, const char* message) noexcept override {
        if (severity > Severity::kERROR) return;
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = message;
    }
    std::string last_error() {
        std::lock_guard<std::mutex> lock(mutex_);
        return last_error_.empty() ? "TensorRT gave no reason" : last_error_;
    }

private:
    std::mutex mutex_;
    std::string last_error_;
};

struct Library {
    std::string name;
    std::string version;  // "11.1.0"
    void* (*create_runtime)(void* logger, std::int32_t version) = nullptr;
};

std::string version_text(std::int32_t packed) {
    // TensorRT 10 and later: major * 10000 + minor * 100 + patch; before 10: major * 1000 + minor * 100 + patch.
    int major = packed >= 100000 ? packed / 10000 : packed / 1000;
    int minor = packed >= 100000 ? packed / 100 % 100 : packed / 100 % 10;
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(packed % 100);
}

Library load_library() {
    std::string first_error;
    void* handle = nullptr;
    Library library;
    for (const char* name : LIBRARIES) {
        handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            library.name = name;
            break;
        }
        if (first_error.empty()) first_error = dlerror();
    }
    if (!handle) {
        throw Error("TensorRT is not installed here",
                    "gnet loads libnvinfer (TensorRT " + std::to_string(HEADER_MAJOR) +
                        ") when it opens a plan, and none could be loaded (" + first_error + ")",
                    "install TensorRT " + std::to_string(HEADER_MAJOR) +
                        " and put its lib folder on LD_LIBRARY_PATH, or run the ONNX file on the CPU",
                    ErrorKind::not_available);
    }
    auto get_version = reinterpret_cast<std::int32_t (*)()>(dlsym(handle, "getInferLibVersion"));
    library.create_runtime =
        reinterpret_cast<void* (*)(void*, std::int32_t)>(dlsym(handle, "createInferRuntime_INTERNAL"));
    if (!get_version || !library.create_runtime) {
        throw Error(library.name + " is not a TensorRT library",
                    "it lacks getInferLibVersion or createInferRuntime_INTERNAL", "", ErrorKind::not_available);
    }
    std::int32_t packed = get_version();
    library.version = version_text(packed);
    int major = packed >= 100000 ? packed / 10000 : packed / 1000;
    if (major != HEADER_MAJOR) {
        throw Error(library.name + " is TensorRT " + library.version,
                    "this gnet was compiled against TensorRT " + std::to_string(HEADER_MAJOR) +
                        "'s headers, and each major version has its own interface",
                    "rebuild gnet with -DTensorRT_ROOT pointing at TensorRT " + std::to_string(major),
                    ErrorKind::not_available);
    }
    return library;
}

void cuda_check(cudaError_t status, const std::string& call) {
    if (status != cudaSuccess) {
        throw Error("the CUDA call " + call + " failed",
                    std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status), "", ErrorKind::cuda);
    }
}

// The compute capability of the device a plan will run on, or one sentence when there is no usable GPU.
std::string device_capability(int index) {
    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count <= index) {
        throw Error("no CUDA GPU is usable here",
                    status != cudaSuccess ? std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status)
                                          : "CUDA sees " + std::to_string(count) + " device(s)",
                    "run TensorRT plans on the GPU machine they were built for, or run the ONNX file on the CPU",
                    ErrorKind::not_available);
    }
    cuda_check(cudaSetDevice(index), "cudaSetDevice");
    cudaDeviceProp properties{};
    cuda_check(cudaGetDeviceProperties(&properties, index), "cudaGetDeviceProperties");
    return std::to_string(properties.major) + "." + std::to_string(properties.minor);
}

struct DeviceBuffer {
    void* data = nullptr;
    std::size_t bytes = 0;
    ~DeviceBuffer() { if (data) cudaFree(data); }
    void reserve(std::size_t wanted) {
        if (wanted <= bytes) return;
        if (data) cudaFree(data);
        data = nullptr;
        bytes = 0;
        cuda_check(cudaMalloc(&data, wanted), "cudaMalloc");
        bytes = wanted;
    }
};

class TensorRTRunner : public Runner {
public:
    TensorRTRunner(const Artifact& artifact, const std::vector<char>& plan, const RunnerOptions& options)
        : artifact_(artifact), name_(artifact.path.filename().string()) {
        Library library = load_library();
        refuse_incompatible(artifact, version_problems(artifact.manifest, library.version));
        refuse_incompatible(artifact, device_problems(artifact.manifest, device_capability(options.device_index)));
        runtime_.reset(static_cast<nvinfer1::IRuntime*>(library.create_runtime(&logger_, NV_TENSORRT_VERSION)));
        if (!runtime_) throw Error("TensorRT " + library.version + " cannot create its runtime", logger_.last_error());
        if (artifact.manifest.version_compatible) runtime_->setEngineHostCodeAllowed(true);  // a lean runtime inside
        engine_.reset(runtime_->deserializeCudaEngine(plan.data(), plan.size()));
        if (!engine_) {
            throw Error("TensorRT " + library.version + " cannot deserialize " + name_, logger_.last_error(),
                        "rebuild it here with: gnet build " +
                            (artifact.path.parent_path() / artifact.manifest.onnx_file).string(),
                        ErrorKind::compatibility);
        }
        context_.reset(engine_->createExecutionContext());
        if (!context_) throw Error("TensorRT cannot create an execution context for " + name_, logger_.last_error());
        check_tensors();
        check_input_dtype();
        cuda_check(cudaStreamCreate(&stream_), "cudaStreamCreate");
        input_half_ = engine_->getTensorDataType(artifact.input.name.c_str()) == nvinfer1::DataType::kHALF;
        output_half_ = engine_->getTensorDataType(artifact.output.name.c_str()) == nvinfer1::DataType::kHALF;
    }

    ~TensorRTRunner() override {
        context_.reset();  // the order TensorRT requires: context, engine, runtime
        engine_.reset();
        runtime_.reset();
        if (stream_) cudaStreamDestroy(stream_);
    }

    std::vector<float> infer(const float* images, int batch) override {
        refuse_other_input_type(artifact_, false);
        const std::int64_t s = artifact_.image_size;
        set_shape(batch, {batch, 3, s, s});
        copy_in(images, std::size_t(batch) * 3 * s * s);
        return run(batch);
    }

    std::vector<float> infer_frames(const std::uint8_t* frames, int batch) override {
        refuse_other_input_type(artifact_, true);
        const std::int64_t s = artifact_.image_size;
        set_shape(batch, {batch, s, s, 3});
        const std::size_t bytes = std::size_t(batch) * s * s * 3;  // uint8: one byte an element
        input_.reserve(bytes);
        cuda_check(cudaMemcpyAsync(input_.data, frames, bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync");
        return run(batch);
    }

    std::string runtime() const override { return "tensorrt"; }
    int max_batch() const override { return artifact_.manifest.max_batch; }

private:
    // The batch within the plan's profile, and the input's shape for this call.
    void set_shape(int batch, std::initializer_list<std::int64_t> dims) {
        const EngineManifest& m = artifact_.manifest;
        if (batch < m.min_batch || batch > m.max_batch) {
            throw Error("batch " + std::to_string(batch) + " is outside " + name_ + "'s profile",
                        "it was built for batches " + std::to_string(m.min_batch) + " to " +
                            std::to_string(m.max_batch),
                        "pass --batch within that range, or rebuild with gnet build --max-batch", ErrorKind::usage);
        }
        nvinfer1::Dims shape;
        shape.nbDims = static_cast<std::int32_t>(dims.size());
        int i = 0;
        for (std::int64_t d : dims) shape.d[i++] = d;
        if (!context_->setInputShape(artifact_.input.name.c_str(), shape)) {
            throw Error("TensorRT refuses the input shape of " + name_, logger_.last_error());
        }
    }

    // The input is on the device: run, and bring the logits back.
    std::vector<float> run(int batch) {
        const std::size_t out_count = std::size_t(batch) * artifact_.num_classes;
        output_.reserve(out_count * (output_half_ ? 2 : 4));
        context_->setTensorAddress(artifact_.input.name.c_str(), input_.data);
        context_->setTensorAddress(artifact_.output.name.c_str(), output_.data);
        if (!context_->enqueueV3(stream_)) throw Error("TensorRT failed to run " + name_, logger_.last_error());
        return copy_out(out_count);
    }

    // The engine's input binding must be of the manifest's dtype: uint8 for a frame plan, float otherwise.
    void check_input_dtype() const {
        const nvinfer1::DataType type = engine_->getTensorDataType(artifact_.input.name.c_str());
        const bool frames = artifact_.input.dtype == "uint8";
        const bool ok = frames ? type == nvinfer1::DataType::kUINT8
                               : type == nvinfer1::DataType::kFLOAT || type == nvinfer1::DataType::kHALF;
        if (ok) return;
        const char* engine_type = type == nvinfer1::DataType::kFLOAT   ? "float32"
                                  : type == nvinfer1::DataType::kHALF  ? "float16"
                                  : type == nvinfer1::DataType::kUINT8 ? "uint8"
                                                                       : "another type";
        throw Error(name_ + " does not match its manifest",
                    "the engine's input '" + artifact_.input.name + "' is " + engine_type +
                        ", the manifest records " + artifact_.input.dtype,
                    "rebuild both with gnet build");
    }

    // The engine's tensors must be the manifest's: one input and one output of those names.
    void check_tensors() const {
        std::vector<std::string> found;
        bool input = false, output = false;
        for (int i = 0; i < engine_->getNbIOTensors(); ++i) {
            const char* name = engine_->getIOTensorName(i);
            const bool is_input = engine_->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
            input = input || (is_input && artifact_.input.name == name);
            output = output || (!is_input && artifact_.output.name == name);
            found.push_back(name);
        }
        if (input && output && found.size() == 2) return;
        std::string names;
        for (const std::string& n : found) names += (names.empty() ? "'" : ", '") + n + "'";
        throw Error(name_ + " does not match its manifest",
                    "the engine's tensors are " + names + ", the manifest names '" + artifact_.input.name + "' and '" +
                        artifact_.output.name + "'",
                    "rebuild both with gnet build");
    }

    void copy_in(const float* images, std::size_t count) {
        const void* source = images;
        if (input_half_) {  // an FP16-I/O plan: converted on the host, as the Python runner casts
            staging_.resize(count);
            for (std::size_t i = 0; i < count; ++i) staging_[i] = float_to_half(images[i]);
            source = staging_.data();
        }
        const std::size_t bytes = count * (input_half_ ? 2 : 4);
        input_.reserve(bytes);
        cuda_check(cudaMemcpyAsync(input_.data, source, bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync");
    }

    std::vector<float> copy_out(std::size_t count) {
        std::vector<float> out(count);
        if (output_half_) {
            staging_.resize(count);
            cuda_check(cudaMemcpyAsync(staging_.data(), output_.data, count * 2, cudaMemcpyDeviceToHost, stream_),
                       "cudaMemcpyAsync");
            cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
            for (std::size_t i = 0; i < count; ++i) out[i] = half_to_float(staging_[i]);
            return out;
        }
        cuda_check(cudaMemcpyAsync(out.data(), output_.data, count * 4, cudaMemcpyDeviceToHost, stream_),
                   "cudaMemcpyAsync");
        cuda_check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
        return out;
    }

    Artifact artifact_;
    std::string name_;
    Logger logger_;  // declared before the TensorRT objects: it must outlive them
    std::unique_ptr<nvinfer1::IRuntime> runtime_;
    std::unique_ptr<nvinfer1::ICudaEngine> engine_;
    std::unique_ptr<nvinfer1::IExecutionContext> context_;
    cudaStream_t stream_ = nullptr;
    DeviceBuffer input_, output_;
    std::vector<std::uint16_t> staging_;
    bool input_half_ = false, output_half_ = false;
};

}  // namespace

std::unique_ptr<Runner> make_tensorrt_runner(const Artifact& artifact, std::vector<char> plan,
                                             const RunnerOptions& options) {
    return std::make_unique<TensorRTRunner>(artifact, plan, options);
}

}  // namespace gnet::detail
