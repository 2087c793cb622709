// gnet.* metadata → the Artifact's contract. The checks and sentences follow export/metadata.py
// (REQUIRED, _CHECKS, require_gnet_metadata) so that a file is refused for the same reason in both languages.
#include "contract.hpp"

#include <nlohmann/json.hpp>

namespace gnet::detail {
namespace {

using nlohmann::json;

constexpr const char* PREFIX = "gnet.";
constexpr int MAX_IMAGE_SIZE = 1024;  // gnet/defaults.py: MAX_IMAGE_SIZE
const char* const REQUIRED[] = {"precision", "image_size", "num_classes"};

// A stored value JSON-decoded where it is JSON, else the string itself (export/metadata.py: decode).
json decode(const std::string& text) {
    json value;
    std::string why;
    return parse_json(text, value, why) ? value : json(text);
}

[[noreturn]] void unusable(const std::string& where, const std::string& key, const json& value,
                           const std::string& wanted) {
    throw Error(where + " has unusable gnet metadata", "gnet." + key + " is " + brief(value) + ", not " + wanted,
                "re-export it with gnet export");
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? " and " : ", ";
        out += names[i];
    }
    return out;
}

void refuse_foreign(const std::string& where, const std::map<std::string, std::string>& values) {
    std::vector<std::string> missing;
    for (const char* key : REQUIRED) {
        if (!values.count(key)) missing.push_back(std::string("gnet.") + key);
    }
    if (missing.empty()) return;
    throw Error(where + " lacks gnet's metadata",
                "it has no " + joined(missing) + ", so another exporter wrote it or its metadata_props were stripped",
                "gnet's C++ library needs gnet's contract (class names, preprocessing), which no option can stand "
                "in for; re-export it with gnet export");
}

int int_in(const std::string& where, const std::string& key, const json& value, int low, int high,
           const std::string& wanted) {
    if (!value.is_number_integer() || value.get<long long>() < low || value.get<long long>() > high) {
        unusable(where, key, value, wanted);
    }
    return value.get<int>();
}

std::string string_of(const std::string& where, const std::string& key, const json& value) {
    if (!value.is_string()) unusable(where, key, value, "a string");
    return value.get<std::string>();
}

std::vector<std::string> class_names_of(const std::string& where, const json& value, int num_classes) {
    bool ok = value.is_array();
    for (const json& name : value) ok = ok && name.is_string();
    if (!ok) unusable(where, "class_names", value, "a list of strings");
    auto names = value.get<std::vector<std::string>>();
    if (!names.empty() && static_cast<int>(names.size()) != num_classes) {
        unusable(where, "class_names", json(names.size()), std::to_string(num_classes) + " names (gnet.num_classes)");
    }
    return names;
}

template <std::size_t N, typename T>
std::array<T, N> numbers(const std::string& where, const std::string& key, const json& value) {
    bool ok = value.is_array() && value.size() == N;
    for (const json& v : value) ok = ok && v.is_number();
    if (!ok) unusable(where, "preprocessing", value, key + " as " + std::to_string(N) + " numbers");
    std::array<T, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<T>(value[i].get<double>());
    return out;
}

}  // namespace

std::map<std::string, std::string> gnet_entries(const std::map<std::string, std::string>& all) {
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : all) {
        if (key.rfind(PREFIX, 0) == 0) out[key.substr(std::string(PREFIX).size())] = value;
    }
    return out;
}

std::string brief(const json& value) {
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

bool parse_json(const std::string& text, json& out, std::string& why) {
    try {
        out = json::parse(text);
        return true;
    } catch (const json::exception& e) {
        why = e.what();  // "[json.exception.parse_error.101] parse error at line 1, …"
        std::size_t bracket = why.find("] ");
        if (bracket != std::string::npos) why = why.substr(bracket + 2);
        return false;
    }
}

Preprocessing parse_preprocessing(const json& doc, const std::string& where) {
    if (!doc.is_object()) unusable(where, "preprocessing", doc, "a JSON object");
    Preprocessing out;
    out.layout = doc.value("layout", "");
    out.color = doc.value("color", "");
    out.interpolation = doc.value("interpolation", "");
    if (doc.contains("dtype")) {  // a frame artifact's: "uint8" (absent: the float images of older exports)
        if (!doc["dtype"].is_string()) unusable(where, "preprocessing", doc["dtype"], "dtype as a string");
        out.dtype = doc["dtype"].get<std::string>();
    }
    if (doc.contains("normalized_in_graph")) {
        if (!doc["normalized_in_graph"].is_boolean()) {
            unusable(where, "preprocessing", doc["normalized_in_graph"], "normalized_in_graph as true or false");
        }
        out.normalized_in_graph = doc["normalized_in_graph"].get<bool>();
    }
    if (!doc.contains("mean") || !doc.contains("std") || !doc.contains("resize_short_side") ||
        !doc.contains("center_crop")) {
        return out;  // not recorded in full (an old or hand-written manifest): tensors can still be fed
    }
    out.mean = numbers<3, float>(where, "mean", doc["mean"]);
    out.std = numbers<3, float>(where, "std", doc["std"]);
    if (doc.contains("value_range")) out.value_range = numbers<2, double>(where, "value_range", doc["value_range"]);
    out.resize_short_side = int_in(where, "preprocessing", doc["resize_short_side"], 1, 1 << 16, "a positive size");
    out.center_crop = int_in(where, "preprocessing", doc["center_crop"], 1, 1 << 16, "a positive size");
    for (float s : out.std) {
        if (!(s > 0.0f)) unusable(where, "preprocessing", doc["std"], "std as 3 positive numbers");
    }
    out.recorded = true;
    return out;
}

void apply_gnet_metadata(Artifact& artifact, const std::map<std::string, std::string>& values) {
    const std::string where = artifact.path.string();
    refuse_foreign(where, values);
    artifact.metadata = values;
    json precision = decode(values.at("precision"));
    if (precision != "fp32" && precision != "fp16" && precision != "int8") {
        unusable(where, "precision", precision, "one of fp32, fp16, int8");
    }
    artifact.precision = precision.get<std::string>();
    artifact.image_size = int_in(where, "image_size", decode(values.at("image_size")), 1, MAX_IMAGE_SIZE,
                                 "an integer up to " + std::to_string(MAX_IMAGE_SIZE));
    artifact.num_classes = int_in(where, "num_classes", decode(values.at("num_classes")), 1, 1 << 24,
                                  "a positive integer");
    if (values.count("class_names")) {
        artifact.class_names = class_names_of(where, decode(values.at("class_names")), artifact.num_classes);
    }
    auto has = [&](const char* key) { return values.count(key) > 0; };
    if (has("int8_target")) artifact.int8_target = string_of(where, "int8_target", decode(values.at("int8_target")));
    if (has("weights")) artifact.weights = string_of(where, "weights", decode(values.at("weights")));
    if (has("input_type")) {
        json type = decode(values.at("input_type"));
        if (type != FLOAT_INPUT && type != FRAME_INPUT) {
            unusable(where, "input_type", type, std::string(FLOAT_INPUT) + " or " + FRAME_INPUT);
        }
        artifact.input_type = type.get<std::string>();
    }
    if (has("preprocessing")) artifact.preprocessing = parse_preprocessing(decode(values.at("preprocessing")), where);
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        out += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
    }
    return out + "]";
}

namespace {

bool same_dims(const std::vector<std::int64_t>& got, const std::vector<std::int64_t>& want) {
    if (got.size() != want.size()) return false;
    for (std::size_t i = 1; i < got.size(); ++i) {  // dimension 0 is the batch: any size
        if (got[i] != want[i]) return false;
    }
    return true;
}

bool is_float(const std::string& dtype) { return dtype == "float32" || dtype == "float16"; }

// The input of the other input type (uint8 frames where the contract says float images, or the reverse): the
// metadata (an edited gnet.input_type, a manifest's input_type) contradicts the graph.
void refuse_contradicting_input(const Artifact& artifact, bool frames, std::int64_t s) {
    const TensorInfo& input = artifact.input;
    const bool other = frames ? is_float(input.dtype) && same_dims(input.shape, {-1, 3, s, s})
                              : input.dtype == "uint8" && same_dims(input.shape, {-1, s, s, 3});
    if (!other) return;
    const bool plan = artifact.file_type == FileType::plan;
    const std::string side = std::to_string(s);
    throw Error(artifact.path.string() + (plan ? " does not match its manifest" : " does not match its gnet metadata"),
                "its input '" + input.name + "' is " + input.dtype + " " + shape_text(input.shape) +
                    (frames ? " (float images)" : " (camera frames)") + ", but " +
                    (plan ? "the manifest's input_type" : "gnet.input_type") + " is " + artifact.input_type +
                    (frames ? ", which takes uint8 [batch, " + side + ", " + side + ", 3]"
                            : ", which takes float32 or float16 [batch, 3, " + side + ", " + side + "]"),
                plan ? "rebuild both with gnet build" : "re-export it with gnet export");
}

}  // namespace

void check_interface(const Artifact& artifact) {
    const std::string where = artifact.path.string();
    const std::int64_t s = artifact.image_size;
    const std::string side = std::to_string(s);
    const bool frames = artifact.input_type == FRAME_INPUT;
    refuse_contradicting_input(artifact, frames, s);
    if (!same_dims(artifact.input.shape, frames ? std::vector<std::int64_t>{-1, s, s, 3}
                                                : std::vector<std::int64_t>{-1, 3, s, s})) {
        throw Error(where + " does not match its gnet metadata",
                    "its input '" + artifact.input.name + "' is " + shape_text(artifact.input.shape) + ", not " +
                        (frames ? "[batch, " + side + ", " + side + ", 3]" : "[batch, 3, " + side + ", " + side + "]"),
                    "re-export it with gnet export");
    }
    if (!same_dims(artifact.output.shape, {-1, artifact.num_classes})) {
        throw Error(where + " does not match its gnet metadata",
                    "its output '" + artifact.output.name + "' is " + shape_text(artifact.output.shape) +
                        ", not [batch, " + std::to_string(artifact.num_classes) + "]",
                    "re-export it with gnet export");
    }
    if (frames && artifact.input.dtype != "uint8") {
        throw Error(where + " has a " + (artifact.input.dtype.empty() ? "non-uint8" : artifact.input.dtype) +
                        " input '" + artifact.input.name + "'",
                    "its input type " + std::string(FRAME_INPUT) + " takes uint8 camera frames");
    }
    for (const TensorInfo* tensor : {&artifact.input, &artifact.output}) {
        if (tensor == &artifact.input && frames) continue;
        if (!is_float(tensor->dtype)) {
            throw Error(where + " has a " + (tensor->dtype.empty() ? "non-float" : tensor->dtype) + " tensor '" +
                            tensor->name + "'",
                        "gnet feeds float32 or float16 images (or uint8 frames to a " + std::string(FRAME_INPUT) +
                            " graph) and reads float logits");
        }
    }
}

}  // namespace gnet::detail
