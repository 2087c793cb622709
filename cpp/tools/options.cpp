// Parsing gnet-infer's arguments: positional MODEL IMAGE..., options anywhere, "--name value" or "--name=value".
// --json takes a value only as --json=PATH or when the next argument ends in .json, so that
// "gnet-infer m.onnx --json a.png" can never overwrite an image with JSON.
#include "options.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "gnet/gnet.hpp"

namespace gnet_infer {
namespace {

bool ends_with_json(const std::string& text) {
    if (text.size() < 5) return false;
    std::string tail = text.substr(text.size() - 5);
    for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return tail == ".json";
}

long long integer(const std::string& option, const std::string& text) {
    char* end = nullptr;
    errno = 0;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE) {
        throw UsageProblem(option + " needs a whole number, not '" + text + "'");
    }
    return value;
}

double number(const std::string& option, const std::string& text) {
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || value != value) {
        throw UsageProblem(option + " needs a number, not '" + text + "'");
    }
    return value;
}

int at_least(const std::string& option, long long value, long long low) {
    if (value < low || value > std::numeric_limits<int>::max()) {
        throw gnet::Error(option + " must be at least " + std::to_string(low) + ", not " + std::to_string(value), "",
                          "", gnet::ErrorKind::usage);
    }
    return static_cast<int>(value);
}

double not_negative(const std::string& option, double value) {
    if (value < 0) throw gnet::Error(option + " must be 0 or more", "", "", gnet::ErrorKind::usage);
    return value;
}

// Applies one option that takes a value; false when `name` is not one of them.
bool apply_valued(Options& o, const std::string& name, const std::string& value) {
    if (name == "--top-k") o.top_k = at_least(name, integer(name, value), 1);
    else if (name == "--batch") o.batch = at_least(name, integer(name, value), 1);
    else if (name == "--threads") o.threads = at_least(name, integer(name, value), 0);
    else if (name == "--iterations") o.iterations = at_least(name, integer(name, value), 1);
    else if (name == "--duration-s") o.duration_s = not_negative(name, number(name, value));
    else if (name == "--warmup-ms") o.warmup_ms = not_negative(name, number(name, value));
    else if (name == "--input-tensor") o.input_tensor = value;
    else if (name == "--output-tensor") o.output_tensor = value;
    else if (name == "--write-input") o.write_input = value;
    else if (name == "--export-times") o.export_times = value;
    else return false;
    return true;
}

bool takes_value(const std::string& name) {
    for (const char* n : {"--top-k", "--batch", "--threads", "--iterations", "--duration-s", "--warmup-ms",
                          "--input-tensor", "--output-tensor", "--write-input", "--export-times"}) {
        if (name == n) return true;
    }
    return false;
}

void check_combination(const Options& o) {
    if (o.help || o.version) return;
    if (o.model.empty()) throw UsageProblem("missing MODEL");
    if (o.images.empty() && o.input_tensor.empty()) throw UsageProblem("missing IMAGE (or --input-tensor FILE.npy)");
    if (!o.images.empty() && !o.input_tensor.empty()) {
        throw UsageProblem("pass images or --input-tensor, not both");
    }
    if (!o.input_tensor.empty() && !o.write_input.empty()) {
        throw UsageProblem("--write-input needs images, not --input-tensor");
    }
    if (!o.export_times.empty() && !o.bench) throw UsageProblem("--export-times needs --bench");
}

}  // namespace

Options parse_options(int argc, char** argv) {
    Options o;
    bool positional_only = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (positional_only || arg.size() < 2 || arg[0] != '-') {
            if (o.model.empty()) o.model = arg;
            else o.images.push_back(arg);
            continue;
        }
        if (arg == "--") { positional_only = true; continue; }
        std::size_t eq = arg.find('=');
        std::string name = arg.substr(0, eq);
        if (name == "--help" || name == "-h") { o.help = true; continue; }
        if (name == "--version") { o.version = true; continue; }
        if (name == "--bench") { o.bench = true; continue; }
        if (name == "--json") {
            o.json = true;
            if (eq != std::string::npos) o.json_path = arg.substr(eq + 1);
            else if (i + 1 < argc && ends_with_json(argv[i + 1])) o.json_path = argv[++i];
            if (eq != std::string::npos && o.json_path.empty()) throw UsageProblem("--json= needs a file name");
            continue;
        }
        if (!takes_value(name)) throw UsageProblem("unknown option " + name);
        if (eq == std::string::npos && i + 1 >= argc) throw UsageProblem(name + " needs a value");
        apply_valued(o, name, eq != std::string::npos ? arg.substr(eq + 1) : std::string(argv[++i]));
    }
    check_combination(o);
    return o;
}

std::string usage_line() {
    return "usage: gnet-infer MODEL IMAGE... [--top-k K] [--batch N] [--json [PATH]] [--bench [--iterations N] "
           "[--duration-s S] [--warmup-ms W] [--export-times T.json]] [--input-tensor X.npy] [--output-tensor Y.npy] "
           "[--write-input X.npy] [--threads T]";
}

std::string help_text() {
    return usage_line() + R"(

Runs a gnet artifact on images and prints the top classes of each.
MODEL: googlenet_<precision>.onnx or an OpenVINO IR .xml (OpenVINO, CPU), or a TensorRT .plan with its
manifest beside it (data-centre TensorRT, GPU). IMAGE: PNG or JPEG files, preprocessed as gnet's Python does.

  --top-k K            classes per image (default 5)
  --batch N            images per inference call (default 1); with --bench, the batch that is timed
  --json [PATH]        one JSON list, one object per image in input order, on stdout or written to PATH
                       (PATH: --json=PATH, or a next argument ending in .json)
  --bench              time inference on one batch (trtexec's rules: warm-up, then at least --iterations and
                       --duration-s) and print one JSON object instead of classes
  --export-times T     with --bench: write each timed call's latency in ms, in call order, as a JSON list
  --input-tensor X     feed a float32 NCHW .npy instead of images (a camera-frame artifact: uint8 NHWC frames)
  --output-tensor Y    write the float32 logits [images, classes] as .npy
  --write-input X      write the preprocessed input tensor as .npy (float32 NCHW; uint8 NHWC frames for a
                       camera-frame artifact, whose images are fed as frames)
  --threads T          OpenVINO inference threads (default: OpenVINO's choice)
  --version, --help

Example: gnet-infer artifacts/googlenet_fp32.onnx cat.png dog.jpg --top-k 3 --json
Exit status: 0 success, 1 a failure (one sentence on stderr), 2 a command line that cannot be parsed.
)";
}

}  // namespace gnet_infer
