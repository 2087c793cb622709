// The OpenVINO runner: an ONNX file or IR compiled for the CPU with the precision hint of what its graph encodes
// forced (openvino_ir/runtime.py's HINT), as gnet's Python runner compiles it: OpenVINO's own default would run
// an FP32 graph in BF16 on a CPU that has BF16. The batch stays dynamic; each call sets its input's shape.
// A camera-frame artifact (uint8-nhwc) takes the caller's uint8 bytes in a tensor wrapping them: no copy.
#include <openvino/core/model.hpp>
#include <openvino/runtime/compiled_model.hpp>
#include <openvino/runtime/core.hpp>
#include <openvino/runtime/infer_request.hpp>
#include <openvino/runtime/properties.hpp>

#include "half.hpp"
#include "openvino_core.hpp"
#include "runners.hpp"

namespace gnet::detail {
namespace {

ov::element::Type precision_hint(const std::string& precision) {
    // An INT8 graph's Q/DQ layers run in u8/i8 whatever the hint; the hint decides the rest, kept in f32.
    return precision == "fp16" ? ov::element::f16 : ov::element::f32;
}

class OpenVINORunner : public Runner {
public:
    OpenVINORunner(const Artifact& artifact, const RunnerOptions& options)
        : artifact_(artifact), name_(artifact.path.filename().string()), image_size_(artifact.image_size),
          num_classes_(artifact.num_classes) {
        std::shared_ptr<ov::Model> model;
        try {
            model = openvino_core().read_model(artifact.path.string());
        } catch (const std::exception& e) {
            throw Error("OpenVINO cannot read " + name_, openvino_reason(e));
        }
        ov::AnyMap config{ov::hint::inference_precision(precision_hint(artifact.precision))};
        if (options.threads > 0) config.insert(ov::inference_num_threads(options.threads));
        try {
            compiled_ = openvino_core().compile_model(model, "CPU", config);
            request_ = compiled_.create_infer_request();
            input_type_ = compiled_.input().get_element_type();
        } catch (const std::exception& e) {
            throw Error("OpenVINO cannot compile " + name_ + " for the CPU", openvino_reason(e));
        }
    }

    std::vector<float> infer(const float* images, int batch) override {
        refuse_other_input_type(artifact_, false);
        if (batch < 1) throw Error("a batch must hold at least one image", "", "", ErrorKind::usage);
        const ov::Shape shape{std::size_t(batch), 3, std::size_t(image_size_), std::size_t(image_size_)};
        return run([&] { return input_tensor(images, shape); }, batch);
    }

    std::vector<float> infer_frames(const std::uint8_t* frames, int batch) override {
        refuse_other_input_type(artifact_, true);
        if (batch < 1) throw Error("a batch must hold at least one image", "", "", ErrorKind::usage);
        const ov::Shape shape{std::size_t(batch), std::size_t(image_size_), std::size_t(image_size_), 3};
        // The caller's bytes themselves: OpenVINO reads an input tensor and never writes it.
        return run([&] { return ov::Tensor(ov::element::u8, shape, const_cast<std::uint8_t*>(frames)); }, batch);
    }

    std::string runtime() const override { return "openvino"; }

private:
    template <typename MakeTensor>
    std::vector<float> run(MakeTensor make_tensor, int batch) {
        try {
            request_.set_input_tensor(make_tensor());
            request_.infer();
            return logits(request_.get_output_tensor(), batch);
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            throw Error("OpenVINO failed to run " + name_, openvino_reason(e));
        }
    }

    // float32 input is wrapped without a copy (OpenVINO only reads it); a float16 input is converted.
    ov::Tensor input_tensor(const float* images, const ov::Shape& shape) {
        if (input_type_ == ov::element::f32) return ov::Tensor(ov::element::f32, shape, const_cast<float*>(images));
        ov::Tensor tensor(ov::element::f16, shape);
        auto* out = static_cast<std::uint16_t*>(tensor.data());
        for (std::size_t i = 0; i < tensor.get_size(); ++i) out[i] = float_to_half(images[i]);
        return tensor;
    }

    std::vector<float> logits(const ov::Tensor& output, int batch) const {
        const std::size_t count = std::size_t(batch) * std::size_t(num_classes_);
        if (output.get_size() != count) {
            throw Error("OpenVINO returned " + std::to_string(output.get_size()) + " logits for " + name_,
                        "the contract says " + std::to_string(batch) + " × " + std::to_string(num_classes_));
        }
        std::vector<float> out(count);
        if (output.get_element_type() == ov::element::f32) {
            const float* data = output.data<const float>();
            std::copy(data, data + count, out.begin());
        } else if (output.get_element_type() == ov::element::f16) {
            const auto* data = static_cast<const std::uint16_t*>(output.data());
            for (std::size_t i = 0; i < count; ++i) out[i] = half_to_float(data[i]);
        } else {
            throw Error("OpenVINO returned " + output.get_element_type().get_type_name() + " logits for " + name_,
                        "gnet reads float32 or float16 logits");
        }
        return out;
    }

    Artifact artifact_;
    std::string name_;
    int image_size_, num_classes_;
    ov::CompiledModel compiled_;
    ov::InferRequest request_;
    ov::element::Type input_type_;
};

}  // namespace

std::unique_ptr<Runner> make_openvino_runner(const Artifact& artifact, const RunnerOptions& options) {
    return std::make_unique<OpenVINORunner>(artifact, options);
}

}  // namespace gnet::detail
