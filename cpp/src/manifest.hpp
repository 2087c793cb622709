// The engine manifest beside a plan (engines/manifest.schema.json), and the checks a loader makes with it before
// the plan reaches TensorRT (engines/plan_loader.py, engines/manifest.py).
#pragma once

#include <string>
#include <vector>

#include "gnet/gnet.hpp"

namespace gnet::detail {

// googlenet_fp16.plan → googlenet_fp16.json; googlenet_fp16.rtx.plan → googlenet_fp16.rtx.json.
std::filesystem::path manifest_path_for(const std::filesystem::path& plan);

// The plan's bytes, refused when its size or SHA-256 differs from what the manifest records.
std::vector<char> read_plan(const Artifact& plan);

// What differs between the TensorRT a plan was built with and the library here ("11.1.0"), as clauses.
std::vector<std::string> version_problems(const EngineManifest& manifest, const std::string& library_version);

// What differs between the GPU a plan was built for and this one ("9.0"), as clauses.
std::vector<std::string> device_problems(const EngineManifest& manifest, const std::string& compute_capability);

// Refuse a plan built for another machine, naming every difference in one sentence.
void refuse_incompatible(const Artifact& plan, const std::vector<std::string>& problems);

}  // namespace gnet::detail
