// Reading a plan's manifest in the order plan_loader.py reads it: the manifest exists, is JSON, is a gnet engine
// manifest of a known format version, names this plan; then the plan exists and its size and SHA-256 match.
// Python validates the whole document against the JSON Schema; here every field the library reads is checked
// (type, range, pattern) with a sentence naming the field, and fields it does not read are left alone.
#include "manifest.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "artifact_files.hpp"
#include "contract.hpp"
#include "sha256.hpp"

namespace gnet::detail {
namespace {

using nlohmann::json;

constexpr const char* FORMAT = "gnet-engine-manifest";

// Looks fields up by path and refuses, naming the path as Python's schema errors do ("manifest.plan.sha256: …").
class Fields {
public:
    Fields(const json& doc, std::filesystem::path file) : doc_(doc), file_(std::move(file)) {}

    const json& get(const json& parent, const std::string& path, const std::string& key) const {
        if (!parent.is_object() || !parent.contains(key)) invalid(path, "'" + key + "' is a required property");
        return parent[key];
    }
    const json& object(const json& parent, const std::string& path, const std::string& key) const {
        const json& value = get(parent, path, key);
        if (!value.is_object()) invalid(path + "." + key, brief(value) + " is not of type 'object'");
        return value;
    }
    std::string string(const json& parent, const std::string& path, const std::string& key) const {
        const json& value = get(parent, path, key);
        if (!value.is_string()) invalid(path + "." + key, brief(value) + " is not of type 'string'");
        return value.get<std::string>();
    }
    long long integer(const json& parent, const std::string& path, const std::string& key, long long low) const {
        const json& value = get(parent, path, key);
        if (!value.is_number_integer() || value.get<long long>() < low) {
            invalid(path + "." + key, brief(value) + " is not an integer of at least " + std::to_string(low));
        }
        return value.get<long long>();
    }
    std::string one_of(const json& parent, const std::string& path, const std::string& key,
                       const std::vector<std::string>& allowed) const {
        std::string value = string(parent, path, key);
        for (const std::string& a : allowed) {
            if (value == a) return value;
        }
        invalid(path + "." + key, "\"" + value + "\" is not one of the values gnet writes");
    }
    std::vector<std::int64_t> shape(const json& parent, const std::string& path, const std::string& key) const {
        const json& value = get(parent, path, key);
        bool ok = value.is_array() && value.size() <= 16;
        for (const json& d : value) ok = ok && d.is_number_integer() && d.get<long long>() >= -1;
        if (!ok) invalid(path + "." + key, brief(value) + " is not a shape");
        return value.get<std::vector<std::int64_t>>();
    }
    [[noreturn]] void invalid(const std::string& path, const std::string& problem) const {
        throw Error("the engine manifest " + file_.string() + " is not a gnet engine manifest", path + ": " + problem);
    }

private:
    const json& doc_;
    std::filesystem::path file_;
};

bool matches_version(const std::string& text) {  // the schema's "^\d+\.\d+"
    std::size_t dot = text.find('.');
    if (dot == 0 || dot == std::string::npos || dot + 1 >= text.size()) return false;
    for (std::size_t i = 0; i < dot; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return std::isdigit(static_cast<unsigned char>(text[dot + 1]));
}

bool is_sha256(const std::string& text) {
    if (text.size() != 64) return false;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
    }
    return true;
}

json parse_manifest(const std::filesystem::path& file) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error)) {
        throw Error("the engine manifest " + file.string() + " does not exist",
                    "a plan is only loaded with the manifest gnet build writes beside it");
    }
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    json doc;
    std::string why;
    if (!parse_json(text, doc, why)) throw Error("the engine manifest " + file.string() + " is not valid JSON", why);
    return doc;
}

void check_format(const json& doc, const Fields& fields, const std::filesystem::path& file) {
    if (!doc.is_object() || doc.value("format", json()) != FORMAT) {
        fields.invalid("manifest.format", "the document is not a \"" + std::string(FORMAT) + "\"");
    }
    json version = doc.value("format_version", json());
    if (version != 1 && version != 2) {
        throw Error("the engine manifest " + file.string() + " has format version " + brief(version),
                    "this gnet reads versions 1 and 2", "rebuild the engine with this gnet");
    }
}

void read_plan_record(const json& doc, const Fields& f, EngineManifest& m) {
    const json& plan = f.object(doc, "manifest", "plan");
    m.plan_file = f.string(plan, "manifest.plan", "file");
    if (m.plan_file.empty()) f.invalid("manifest.plan.file", "\"\" is too short");
    m.plan_sha256 = f.string(plan, "manifest.plan", "sha256");
    if (!is_sha256(m.plan_sha256)) {
        f.invalid("manifest.plan.sha256", "\"" + m.plan_sha256 + "\" is not a SHA-256 in hex");
    }
    m.plan_bytes = static_cast<std::uint64_t>(f.integer(plan, "manifest.plan", "bytes", 1));
}

void read_tensorrt_record(const json& doc, const Fields& f, const std::string& runtime, EngineManifest& m) {
    const json& trt = f.object(doc, "manifest", "tensorrt");
    m.tensorrt_version = f.string(trt, "manifest.tensorrt", "version");
    if (!matches_version(m.tensorrt_version)) {
        f.invalid("manifest.tensorrt.version", "\"" + m.tensorrt_version + "\" is not a version");
    }
    if (runtime != "tensorrt") return;  // the device and compatibility fields are data-centre TensorRT's
    m.hardware_compatibility =
        f.one_of(trt, "manifest.tensorrt", "hardware_compatibility", {"none", "ampere+", "same-cc"});
    const json& compatible = f.get(trt, "manifest.tensorrt", "version_compatible");
    if (!compatible.is_boolean()) {
        f.invalid("manifest.tensorrt.version_compatible", brief(compatible) + " is not of type 'boolean'");
    }
    m.version_compatible = compatible.get<bool>();
    const json& device = f.object(doc, "manifest", "device");
    m.device_name = f.string(device, "manifest.device", "name");
    m.compute_capability = f.string(device, "manifest.device", "compute_capability");
    const std::string& cc = m.compute_capability;  // the schema's "^\d+\.\d+$"
    if (!matches_version(cc) || cc.find_first_not_of("0123456789.") != std::string::npos ||
        cc.find('.', cc.find('.') + 1) != std::string::npos) {
        f.invalid("manifest.device.compute_capability", "\"" + m.compute_capability + "\" is not a compute capability");
    }
}

TensorInfo read_tensor(const json& doc, const Fields& f, const std::string& key) {
    const json& list = f.get(doc, "manifest", key);
    if (!list.is_array() || list.empty()) f.invalid("manifest." + key, brief(list) + " is not a non-empty list");
    const std::string path = "manifest." + key + "[0]";
    return {f.string(list[0], path, "name"), f.string(list[0], path, "dtype"), f.shape(list[0], path, "shape")};
}

void read_profile(const json& doc, const Fields& f, EngineManifest& m) {
    const json& profile = f.object(doc["inputs"][0], "manifest.inputs[0]", "profile");
    std::vector<std::int64_t> low = f.shape(profile, "manifest.inputs[0].profile", "min");
    std::vector<std::int64_t> high = f.shape(profile, "manifest.inputs[0].profile", "max");
    if (low.empty() || high.empty() || low[0] < 1 || high[0] < low[0]) {
        f.invalid("manifest.inputs[0].profile", "its batch range is not 1 ≤ min ≤ max");
    }
    m.min_batch = static_cast<int>(low[0]);
    m.max_batch = static_cast<int>(high[0]);
}

// image_size and num_classes may be null (a foreign ONNX built with --image-size/--classes): the shapes say them.
int size_or_shape(const json& model, const Fields& f, const std::string& key, std::int64_t from_shape) {
    const json& value = f.get(model, "manifest.model", key);
    if (value.is_null() && from_shape > 0) return static_cast<int>(from_shape);
    return static_cast<int>(f.integer(model, "manifest.model", key, 1));
}

void read_model_record(const json& doc, const Fields& f, Artifact& a) {
    const json& model = f.object(doc, "manifest", "model");
    a.manifest.onnx_file = f.string(model, "manifest.model", "onnx_file");
    a.image_size = size_or_shape(model, f, "image_size", a.input.shape.size() == 4 ? a.input.shape[2] : -1);
    a.num_classes = size_or_shape(model, f, "num_classes", a.output.shape.size() == 2 ? a.output.shape[1] : -1);
    const json& names = f.get(model, "manifest.model", "class_names");
    bool ok = names.is_array() && (names.empty() || static_cast<int>(names.size()) == a.num_classes);
    for (const json& n : names) ok = ok && n.is_string();
    if (!ok) {
        f.invalid("manifest.model.class_names", "it is not a list of " + std::to_string(a.num_classes) + " strings");
    }
    a.class_names = names.get<std::vector<std::string>>();
    if (model.contains("weights") && model["weights"].is_string()) a.weights = model["weights"].get<std::string>();
}

}  // namespace

std::filesystem::path manifest_path_for(const std::filesystem::path& plan) {
    return std::filesystem::path(plan).replace_extension(".json");
}

Artifact open_plan(const std::filesystem::path& path) {
    Artifact a;
    a.path = path;
    a.file_type = FileType::plan;
    a.manifest.path = manifest_path_for(path);
    json doc = parse_manifest(a.manifest.path);
    Fields f(doc, a.manifest.path);
    check_format(doc, f, a.manifest.path);
    a.manifest.format_version = doc["format_version"].get<int>();
    a.runtime = a.manifest.format_version == 1 ? "tensorrt"
                                               : f.one_of(doc, "manifest", "runtime", {"tensorrt", "tensorrt-rtx"});
    read_plan_record(doc, f, a.manifest);
    if (a.manifest.plan_file != path.filename().string()) {
        throw Error(a.manifest.path.filename().string() + " describes " + a.manifest.plan_file + ", not " +
                        path.filename().string(),
                    "", "keep each plan with the manifest gnet build wrote for it");
    }
    a.precision = f.one_of(doc, "manifest", "precision", {"fp32", "fp16", "int8"});
    read_tensorrt_record(doc, f, a.runtime, a.manifest);
    a.input = read_tensor(doc, f, "inputs");
    a.output = read_tensor(doc, f, "outputs");
    read_profile(doc, f, a.manifest);
    read_model_record(doc, f, a);
    if (doc.contains("input_type")) a.input_type = f.one_of(doc, "manifest", "input_type", {FLOAT_INPUT, FRAME_INPUT});
    a.preprocessing = parse_preprocessing(f.object(doc, "manifest", "preprocessing"), a.manifest.path.string());
    check_interface(a);
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
        throw Error("the engine " + path.string() + " does not exist", "",
                    "build it with: gnet build " + (path.parent_path() / a.manifest.onnx_file).string());
    }
    return a;
}

std::vector<char> read_plan(const Artifact& plan) {
    const EngineManifest& m = plan.manifest;
    const std::string name = plan.path.filename().string();
    std::ifstream in(plan.path, std::ios::binary);
    std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw Error("cannot read the engine " + plan.path.string());
    std::string why;
    if (data.size() != m.plan_bytes) {
        why = "it is " + std::to_string(data.size()) + " bytes, the manifest records " + std::to_string(m.plan_bytes);
    } else {
        std::string digest = sha256_hex(data.data(), data.size());
        if (digest != m.plan_sha256) {
            why = "its SHA-256 is " + digest.substr(0, 12) + "…, the manifest records " +
                  m.plan_sha256.substr(0, 12) + "…";
        }
    }
    if (!why.empty()) throw Error(name + " does not match its manifest", why, "rebuild both with gnet build");
    return data;
}

namespace {

// engines/trt_import.py's parse_version: the numbers of "10.13.0.35" (before any "+"), at most four.
std::vector<int> version_numbers(const std::string& text) {
    std::vector<int> out;
    std::string plain = text.substr(0, text.find('+'));
    for (std::size_t i = 0; i < plain.size() && out.size() < 4;) {
        if (!std::isdigit(static_cast<unsigned char>(plain[i]))) {
            ++i;
            continue;
        }
        std::size_t end = plain.find_first_not_of("0123456789", i);
        out.push_back(std::stoi(plain.substr(i, std::min<std::size_t>(end, plain.size()) - i).substr(0, 9)));
        i = end == std::string::npos ? plain.size() : end;
    }
    return out;
}

std::pair<int, int> capability(const std::string& text) {
    std::vector<int> parts = version_numbers(text);
    return {parts.size() > 0 ? parts[0] : 0, parts.size() > 1 ? parts[1] : 0};
}

}  // namespace

std::vector<std::string> version_problems(const EngineManifest& m, const std::string& library_version) {
    // The library reports major.minor.patch only, so the build's fourth number (its build) is not compared.
    std::vector<int> built = version_numbers(m.tensorrt_version), here = version_numbers(library_version);
    built.resize(std::min<std::size_t>(built.size(), 3));
    here.resize(std::min<std::size_t>(here.size(), 3));
    if (m.version_compatible) {
        if (built.empty() || here.empty() || built[0] != here[0] || here < built) {
            return {"it was built version-compatible with TensorRT " + m.tensorrt_version + ", which only TensorRT " +
                    (built.empty() ? std::string("?") : std::to_string(built[0])) + ".x releases from " +
                    m.tensorrt_version + " on can load, but this machine has TensorRT " + library_version};
        }
    } else if (built != here) {
        return {"it was built with TensorRT " + m.tensorrt_version + " but this machine has TensorRT " +
                library_version};
    }
    return {};
}

std::vector<std::string> device_problems(const EngineManifest& m, const std::string& compute_capability) {
    if (m.hardware_compatibility == "ampere+") {
        if (capability(compute_capability) < std::make_pair(8, 0)) {
            return {"it was built for Ampere or newer GPUs (compute capability 8.0+) but this GPU has compute "
                    "capability " + compute_capability};
        }
    } else if (capability(m.compute_capability) != capability(compute_capability)) {
        return {"it was built for compute capability " + m.compute_capability + " (" + m.device_name +
                ") but this GPU has compute capability " + compute_capability};
    }
    return {};
}

void refuse_incompatible(const Artifact& plan, const std::vector<std::string>& problems) {
    if (problems.empty()) return;
    std::string why;
    for (const std::string& p : problems) why += (why.empty() ? "" : "; and ") + p;
    throw Error(plan.path.filename().string() + " does not match this machine", why,
                "rebuild it here with: gnet build " + (plan.path.parent_path() / plan.manifest.onnx_file).string(),
                ErrorKind::compatibility);
}

}  // namespace gnet::detail
