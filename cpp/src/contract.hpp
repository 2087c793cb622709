// gnet's contract: the gnet.* metadata an export stamps (export/metadata.py), turned into Artifact fields and
// checked as Python checks them, and the graph's interface checked against it.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gnet/gnet.hpp"

namespace gnet::detail {

// Fill artifact's contract from gnet.* values (keys without the "gnet." prefix, values as stored: JSON text
// or a plain string). A file without gnet's required keys is foreign and refused in one sentence.
void apply_gnet_metadata(Artifact& artifact, const std::map<std::string, std::string>& values);

// The gnet.* entries of a key → value map (ONNX metadata_props, an IR's framework section), prefix removed.
std::map<std::string, std::string> gnet_entries(const std::map<std::string, std::string>& all);

// The preprocessing object (gnet.preprocessing, a manifest's "preprocessing").
Preprocessing parse_preprocessing(const nlohmann::json& doc, const std::string& where);

// JSON text → document; false (and why, without nlohmann's exception prefix) when the text is not JSON.
// The one place the library instantiates nlohmann's parser: it is the slowest part of the build.
bool parse_json(const std::string& text, nlohmann::json& out, std::string& why);

// One input and one output [batch, C] as the contract says: float32 or float16 [batch, 3, S, S] in, or uint8
// [batch, S, S, 3] where the input type is FRAME_INPUT; a graph of the other input type is refused in one sentence.
void check_interface(const Artifact& artifact);

// A JSON value quoted in a sentence: compact, invalid UTF-8 replaced, cut to 80 characters.
std::string brief(const nlohmann::json& value);

// "[?, 3, 64, 64]"
std::string shape_text(const std::vector<std::int64_t>& shape);

}  // namespace gnet::detail
