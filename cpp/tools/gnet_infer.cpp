// gnet-infer: run a gnet artifact on images (or a tensor) and print the top classes, as JSON if asked, or time it.
// This is the one place where a gnet::Error becomes the sentence a user reads, with exit status 1.
#include <algorithm>
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
    bool frames = false;              // a camera-frame artifact's input (gnet::FRAME_INPUT): uint8 frames, not data
    std::vector<float> data;          // names.size() × 3 × S × S
    std::vector<std::uint8_t> pixels; // frames: names.size() × S × S × 3
};

bool takes_frames(const gnet::Artifact& artifact) { return artifact.input_type == gnet::FRAME_INPUT; }

// The output files, created first: an unwritable path fails before the model is even read.
struct Outputs {
    std::unique_ptr<AtomicFile> json, logits, input, times;
    explicit Outputs(const Options& o) {
        if (!o.json_path.empty()) json = std::make_unique<AtomicFile>(o.json_path);
        if (!o.output_tensor.empty()) logits = std::make_unique<AtomicFile>(o.output_tensor);
        if (!o.write_input.empty()) input = std::make_unique<AtomicFile>(o.write_input);
        if (!o.export_times.empty()) times = std::make_unique<AtomicFile>(o.export_times);
    }
};

// Images as the artifact takes them: normalized float32 CHW (load_image), or a frame artifact's uint8 HWC pixels
// (load_frame); the user types the same command for both.
Inputs read_images(const Options& o, const gnet::Artifact& artifact) {
    Inputs inputs;
    inputs.frames = takes_frames(artifact);
    for (const std::string& image : o.images) {
        if (inputs.frames) {
            std::vector<std::uint8_t> hwc = gnet::load_frame(image, artifact);
            inputs.pixels.insert(inputs.pixels.end(), hwc.begin(), hwc.end());
        } else {
            std::vector<float> chw = gnet::load_image(image, artifact);
            inputs.data.insert(inputs.data.end(), chw.begin(), chw.end());
        }
        inputs.names.push_back(image);
    }
    return inputs;
}

// --input-tensor: float32 [images, 3, S, S], or uint8 frames [images, S, S, 3] for a frame artifact.
Inputs read_tensor(const Options& o, const gnet::Artifact& artifact) {
    Inputs inputs;
    inputs.frames = takes_frames(artifact);
    Tensor tensor = read_npy(o.input_tensor);
    const std::int64_t s = artifact.image_size;
    const std::vector<std::int64_t>& shape = tensor.shape;
    const std::vector<std::int64_t> wanted = inputs.frames ? std::vector<std::int64_t>{s, s, 3}
                                                           : std::vector<std::int64_t>{3, s, s};
    std::string dims, side = std::to_string(s);
    for (std::int64_t d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    const std::string takes = inputs.frames ? "[images, " + side + ", " + side + ", 3]"
                                            : "[images, 3, " + side + ", " + side + "]";
    const std::string what = "the tensor " + o.input_tensor + " does not fit " + artifact.path.string();
    if ((tensor.dtype == "uint8") != inputs.frames) {
        throw gnet::Error(what,
                          "it is " + tensor.dtype + " [" + dims + "], and the artifact takes " +
                              (inputs.frames ? "uint8 camera frames " : "normalized float32 images ") + takes +
                              " (input type " + artifact.input_type + ")",
                          inputs.frames ? "pass the resized, cropped RGB pixels as uint8, or run its float graph"
                                        : "pass normalized float32 images, or export a frame graph with gnet export "
                                          "--input-type uint8-nhwc");
    }
    if (shape.size() != 4 || shape[0] < 1 || !std::equal(wanted.begin(), wanted.end(), shape.begin() + 1)) {
        throw gnet::Error(what, "it is [" + dims + "], not " + takes);
    }
    for (std::int64_t i = 0; i < shape[0]; ++i) inputs.names.push_back(o.input_tensor + "[" + std::to_string(i) + "]");
    inputs.data = std::move(tensor.data);
    inputs.pixels = std::move(tensor.frames);
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

// One call on `count` inputs from the `start`th: float images through infer, frames through infer_frames (the
// runner reads these bytes as they are).
std::vector<float> infer_some(gnet::Runner& runner, const Inputs& inputs, std::size_t per_image, std::size_t start,
                              int count) {
    if (inputs.frames) return runner.infer_frames(inputs.pixels.data() + start * per_image, count);
    return runner.infer(inputs.data.data() + start * per_image, count);
}

// Every image through the runner, `batch` at a time (the last batch smaller).
std::vector<float> infer_all(gnet::Runner& runner, const Inputs& inputs, const gnet::Artifact& artifact, int batch) {
    const std::size_t per_image = std::size_t(3) * artifact.image_size * artifact.image_size;
    std::vector<float> logits;
    for (std::size_t start = 0; start < inputs.names.size(); start += std::size_t(batch)) {
        int count = static_cast<int>(std::min<std::size_t>(std::size_t(batch), inputs.names.size() - start));
        std::vector<float> part = infer_some(runner, inputs, per_image, start, count);
        logits.insert(logits.end(), part.begin(), part.end());
    }
    refuse_nonfinite(logits, artifact);
    return logits;
}

// --bench: the inputs repeated to fill one batch, timed as trtexec times; --export-times gets each call's latency.
std::string run_bench(gnet::Runner& runner, const Inputs& inputs, const gnet::Artifact& artifact, const Options& o,
                      std::vector<float>& logits, AtomicFile* times) {
    const std::size_t per_image = std::size_t(3) * artifact.image_size * artifact.image_size;
    Inputs batch;
    batch.frames = inputs.frames;
    for (int i = 0; i < o.batch; ++i) {
        const std::size_t at = (std::size_t(i) % inputs.names.size()) * per_image;
        if (inputs.frames) batch.pixels.insert(batch.pixels.end(), &inputs.pixels[at], &inputs.pixels[at] + per_image);
        else batch.data.insert(batch.data.end(), &inputs.data[at], &inputs.data[at] + per_image);
    }
    logits = infer_some(runner, batch, per_image, 0, o.batch);
    refuse_nonfinite(logits, artifact);
    Timing timing = time_calls([&] { infer_some(runner, batch, per_image, 0, o.batch); }, o.iterations, o.duration_s,
                               o.warmup_ms);
    if (times) times->write(times_json(timing));
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
        outputs.input->write(inputs.frames ? npy_bytes({n, s, s, 3}, inputs.pixels)
                                           : npy_bytes({n, 3, s, s}, inputs.data));
    }
    std::vector<float> logits;
    std::string report;
    if (o.bench) {
        report = run_bench(*runner, inputs, artifact, o, logits, outputs.times.get());
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
    for (AtomicFile* file : {outputs.input.get(), outputs.logits.get(), outputs.times.get(), outputs.json.get()}) {
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
