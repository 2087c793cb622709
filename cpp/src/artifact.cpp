// gnet::open_artifact: which reader a file needs, by its name (.onnx, .xml, .plan), and the ONNX reader itself.
#include "artifact_files.hpp"
#include "contract.hpp"
#include "onnx_file.hpp"

namespace gnet {
namespace detail {
namespace {

TensorInfo tensor_of(const OnnxValueInfo& info) { return {info.name, onnx_dtype(info.elem_type), info.dims}; }

// gnet stamps the SHA-256 of the graph it wrote (gnet.graph_sha256): weights or nodes edited since differ from it.
void check_graph_digest(const Artifact& artifact, const std::string& digest) {
    auto recorded = artifact.metadata.find("graph_sha256");
    if (recorded == artifact.metadata.end() || recorded->second == digest) return;
    throw Error(artifact.path.string() + " does not match its gnet metadata",
                "its graph's SHA-256 is " + digest.substr(0, 12) + "…, gnet.graph_sha256 records " +
                    recorded->second.substr(0, 12) + "…: the graph was changed after gnet wrote it",
                "re-export it with gnet export");
}

}  // namespace

Artifact open_onnx(const std::filesystem::path& path) {
    OnnxFacts facts = read_onnx_facts(path);
    Artifact artifact;
    artifact.path = path;
    artifact.file_type = FileType::onnx;
    artifact.runtime = "openvino";
    apply_gnet_metadata(artifact, gnet_entries(facts.metadata_props));
    check_graph_digest(artifact, facts.graph_sha256);
    if (facts.inputs.size() != 1 || facts.outputs.size() != 1) {
        throw Error(path.string() + " has " + std::to_string(facts.inputs.size()) + " inputs and " +
                        std::to_string(facts.outputs.size()) + " outputs",
                    "gnet runs image classifiers with one image input and one logits output");
    }
    artifact.input = tensor_of(facts.inputs[0]);
    artifact.output = tensor_of(facts.outputs[0]);
    check_interface(artifact);
    return artifact;
}

}  // namespace detail

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Artifact open_artifact(const std::filesystem::path& path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
        throw Error("the artifact " + path.string() + " does not exist", "",
                    "export one with gnet export (ONNX), gnet openvino (IR) or gnet build (plan)");
    }
    if (!std::filesystem::is_regular_file(path, error)) throw Error("the artifact " + path.string() + " is not a file");
    const std::string name = path.filename().string();
    if (ends_with(name, ".onnx")) return detail::open_onnx(path);
    if (ends_with(name, ".xml")) return detail::open_openvino_ir(path);
    if (ends_with(name, ".plan")) return detail::open_plan(path);
    throw Error("gnet cannot tell what " + path.string() + " is",
                "gnet's artifacts end in .onnx (ONNX), .xml (OpenVINO IR, with its .bin) or .plan (TensorRT, with "
                "its manifest)",
                "pass one of those", ErrorKind::usage);
}

}  // namespace gnet
