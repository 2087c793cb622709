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
    if (has("preprocessing")) artifact.preprocessing = parse_preprocessing(decode(values.at("preprocessing")), where);
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        out += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
    }
    return out + "]";
}

void check_interface(const Artifact& artifact) {
    const std::string where = artifact.path.string();
    const std::int64_t s = artifact.image_size;
    auto differs = [](const std::vector<std::int64_t>& got, const std::vector<std::int64_t>& want) {
        if (got.size() != want.size()) return true;
        for (std::size_t i = 1; i < got.size(); ++i) {  // dimension 0 is the batch: any size
            if (got[i] != want[i]) return true;
        }
        return false;
    };
    if (differs(artifact.input.shape, {-1, 3, s, s})) {
        throw Error(where + " does not match its gnet metadata",
                    "its input '" + artifact.input.name + "' is " + shape_text(artifact.input.shape) +
                        ", not [batch, 3, " + std::to_string(s) + ", " + std::to_string(s) + "]",
                    "re-export it with gnet export");
    }
    if (differs(artifact.output.shape, {-1, artifact.num_classes})) {
        throw Error(where + " does not match its gnet metadata",
                    "its output '" + artifact.output.name + "' is " + shape_text(artifact.output.shape) +
                        ", not [batch, " + std::to_string(artifact.num_classes) + "]",
                    "re-export it with gnet export");
    }
    for (const TensorInfo* tensor : {&artifact.input, &artifact.output}) {
        if (tensor->dtype != "float32" && tensor->dtype != "float16") {
            throw Error(where + " has a " + (tensor->dtype.empty() ? "non-float" : tensor->dtype) + " tensor '" +
                            tensor->name + "'",
                        "gnet feeds float32 or float16 images and reads float logits");
        }
    }
}

}  // namespace gnet::detail
