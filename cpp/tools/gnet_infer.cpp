// gnet-infer: run a gnet artifact on images (or a tensor) and print the top classes, as JSON if asked, or time it.
// This is the one place where a gnet::Error becomes the sentence a user reads, with exit status 1.
#include <cmath>
#include <iostream>
#include <memory>
#include <new>

#include "atomic_file.hpp"
#include "bench.hpp"
#include "gnet/gnet.hpp"
#include "npy.hpp"
#include "options.hpp"
#include "report.hpp"

namespace gnet_infer {
namespace {

struct Inputs {
    std::vector<std::string> names;
    std::vector<float> data;  // names.size() × 3 × S × S
};

// The output files, created first: an unwritable path fails before the model is even read.
struct Outputs {
    std::unique_ptr<AtomicFile> json, logits, input;
    explicit Outputs(const Options& o) {
        if (!o.json_path.empty()) json = std::make_unique<AtomicFile>(o.json_path);
        if (!o.output_tensor.empty()) logits = std::make_unique<AtomicFile>(o.output_tensor);
        if (!o.write_input.empty()) input = std::make_unique<AtomicFile>(o.write_input);
    }
};

Inputs read_images(const Options& o, const gnet::Artifact& artifact) {
    Inputs inputs;
    for (const std::string& image : o.images) {
        std::vector<float> chw = gnet::load_image(image, artifact);
        inputs.data.insert(inputs.data.end(), chw.begin(), chw.end());
        inputs.names.push_back(image);
    }
    return inputs;
}

// --input-tensor: [images, 3, S, S] as the artifact takes them.
Inputs read_tensor(const Options& o, const gnet::Artifact& artifact) {
    Inputs inputs;
    Tensor tensor = read_npy(o.input_tensor);
    const std::int64_t s = artifact.image_size;
    const std::vector<std::int64_t>& shape = tensor.shape;
    if (shape.size() != 4 || shape[0] < 1 || shape[1] != 3 || shape[2] != s || shape[3] != s) {
        std::string dims;
        for (std::int64_t d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
        const std::string side = std::to_string(s);
        throw gnet::Error("the tensor " + o.input_tensor + " does not fit " + artifact.path.string(),
                          "it is [" + dims + "], not [images, 3, " + side + ", " + side + "]");
    }
    for (std::int64_t i = 0; i < shape[0]; ++i) inputs.names.push_back(o.input_tensor + "[" + std::to_string(i) + "]");
    inputs.data = std::move(tensor.data);
    return inputs;
}

Inputs read_inputs(const Options& o, const gnet::Artifact& artifact) {
    return o.input_tensor.empty() ? read_images(o, artifact) : read_tensor(o, artifact);
}

void refuse_nonfinite(const std::vector<float>& logits, const gnet::Artifact& artifact) {
    for (float v : logits) {
        if (!std::isfinite(v)) {
            throw gnet::Error(artifact.path.string() + " gave NaN or infinite logits",
                              "a broken graph or an input outside what it was exported for");
        }
    }
}

// Every image through the runner, `batch` at a time (the last batch smaller).
std::vector<float> infer_all(gnet::Runner& runner, const Inputs& inputs, const gnet::Artifact& artifact, int batch) {
    const std::size_t per_image = std::size_t(3) * artifact.image_size * artifact.image_size;
    std::vector<float> logits;
    for (std::size_t start = 0; start < inputs.names.size(); start += std::size_t(batch)) {
        int count = static_cast<int>(std::min<std::size_t>(std::size_t(batch), inputs.names.size() - start));
        std::vector<float> part = runner.infer(inputs.data.data() + start * per_image, count);
        logits.insert(logits.end(), part.begin(), part.end());
    }
    refuse_nonfinite(logits, artifact);
    return logits;
}

// --bench: the inputs repeated to fill one batch, timed as trtexec times.
std::string run_bench(gnet::Runner& runner, const Inputs& inputs, const gnet::Artifact& artifact, const Options& o,
                      std::vector<float>& logits) {
    const std::size_t per_image = std::size_t(3) * artifact.image_size * artifact.image_size;
    std::vector<float> batch(per_image * std::size_t(o.batch));
    for (int i = 0; i < o.batch; ++i) {
        const float* image = inputs.data.data() + (std::size_t(i) % inputs.names.size()) * per_image;
        std::copy(image, image + per_image, batch.begin() + std::ptrdiff_t(i * per_image));
    }
    logits = runner.infer(batch.data(), o.batch);
    refuse_nonfinite(logits, artifact);
    Timing timing = time_calls([&] { runner.infer(batch.data(), o.batch); }, o.iterations, o.duration_s, o.warmup_ms);
    return bench_json({&artifact, runner.runtime(), o.batch, o.threads, o.warmup_ms}, timing);
}

std::vector<ImageResult> results_of(const std::vector<float>& logits, const Inputs& inputs,
                                    const gnet::Artifact& artifact, int k) {
    std::vector<ImageResult> results;
    for (std::size_t i = 0; i < inputs.names.size(); ++i) {
        results.push_back({inputs.names[i], gnet::top_k(logits.data() + i * artifact.num_classes, artifact.num_classes,
                                                        k, artifact.class_names)});
    }
    return results;
}

int run(const Options& o) {
    if (o.help) {
        std::cout << help_text();
        return 0;
    }
    if (o.version) {
        std::cout << "gnet-infer " << gnet::version() << " (runners: openvino"
                  << (gnet::has_tensorrt() ? ", tensorrt" : "") << ")\n";
        return 0;
    }
    Outputs outputs(o);
    gnet::Artifact artifact = gnet::open_artifact(o.model);
    std::unique_ptr<gnet::Runner> runner = gnet::make_runner(artifact, {o.threads, 0});
    Inputs inputs = read_inputs(o, artifact);
    if (outputs.input) {
        std::int64_t n = std::int64_t(inputs.names.size()), s = artifact.image_size;
        outputs.input->write(npy_bytes({n, 3, s, s}, inputs.data));
    }
    std::vector<float> logits;
    std::string report;
    if (o.bench) {
        report = run_bench(*runner, inputs, artifact, o, logits);
    } else {
        logits = infer_all(*runner, inputs, artifact, o.batch);
        std::vector<ImageResult> results = results_of(logits, inputs, artifact, o.top_k);
        report = o.json ? json_report(results) : text_report(results);
    }
    if (outputs.logits) {
        std::int64_t rows = std::int64_t(logits.size()) / artifact.num_classes;
        outputs.logits->write(npy_bytes({rows, artifact.num_classes}, logits));
    }
    if (outputs.json) outputs.json->write(report);
    else std::cout << report << std::flush;
    for (AtomicFile* file : {outputs.input.get(), outputs.logits.get(), outputs.json.get()}) {
        if (file) file->commit();
    }
    return 0;
}

}  // namespace
}  // namespace gnet_infer

int main(int argc, char** argv) {
    using namespace gnet_infer;
    try {
        return run(parse_options(argc, argv));
    } catch (const UsageProblem& problem) {
        std::cerr << usage_line() << "\nerror: " << problem.what() << " (gnet-infer --help lists the options)\n";
        return 2;
    } catch (const gnet::Error& error) {
        std::cerr << "error: " << error.what() << "\n";
        return 1;
    } catch (const std::bad_alloc&) {
        std::cerr << "error: out of memory\n";
        return 1;
    } catch (const std::exception& error) {  // a bug in gnet-infer: still one line, never an abort
        std::cerr << "error: gnet-infer failed unexpectedly: " << error.what() << "\n";
        return 1;
    }
}
