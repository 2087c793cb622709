// An OpenVINO IR (.xml + .bin) as gnet writes it (openvino_ir/ir.py): its contract from the rt_info section
// "gnet", else from the ONNX metadata_props OpenVINO carried into "framework" (an IR made with ovc), and its
// interface from the model. Checked as read_ir checks it: an XML header first (else OpenVINO offers the file to
// every frontend, and some log to stderr), then the .bin beside it, then OpenVINO's own reading.
#include <fstream>

#include <openvino/core/model.hpp>
#include <openvino/runtime/core.hpp>

#include "artifact_files.hpp"
#include "contract.hpp"
#include "openvino_core.hpp"

namespace gnet::detail {
namespace {

std::map<std::string, std::string> section(const ov::Model& model, const std::string& name, const std::string& prefix) {
    std::map<std::string, std::string> out;
    if (!model.has_rt_info(name)) return out;
    for (const auto& [key, value] : model.get_rt_info<ov::AnyMap>(name)) {
        if (key.rfind(prefix, 0) == 0) out[key.substr(prefix.size())] = value.as<std::string>();
    }
    return out;
}

bool has_xml_header(const std::filesystem::path& xml) {
    std::ifstream file(xml, std::ios::binary);
    std::string head(256, '\0');
    file.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(file.gcount()));
    std::size_t start = head.find_first_not_of(" \t\r\n");
    return start != std::string::npos && (head.compare(start, 5, "<?xml") == 0 || head.compare(start, 4, "<net") == 0);
}

TensorInfo tensor_of(const ov::Output<const ov::Node>& port) {
    TensorInfo info;
    info.name = port.get_any_name();
    ov::element::Type type = port.get_element_type();
    info.dtype = type == ov::element::f32   ? "float32"
                 : type == ov::element::f16 ? "float16"
                 : type == ov::element::u8  ? "uint8"
                                            : type.get_type_name();
    for (const ov::Dimension& d : port.get_partial_shape()) info.shape.push_back(d.is_static() ? d.get_length() : -1);
    return info;
}

std::shared_ptr<ov::Model> read_model(const std::filesystem::path& xml) {
    const std::string what = "cannot read the OpenVINO IR " + xml.string();
    if (!has_xml_header(xml)) {
        throw Error(what, "it is not an OpenVINO IR (no XML header)", "pass the .xml file gnet openvino wrote");
    }
    std::filesystem::path weights = std::filesystem::path(xml).replace_extension(".bin");
    std::error_code error;
    if (!std::filesystem::is_regular_file(weights, error) || std::filesystem::file_size(weights, error) == 0) {
        throw Error(what, "its weights file " + weights.filename().string() + " is missing or empty",
                    "keep the .bin written beside the .xml");
    }
    try {
        return openvino_core().read_model(xml.string());
    } catch (const std::exception& e) {  // a truncated .xml, a .bin that does not fit it
        throw Error(what, openvino_reason(e), "write it again with gnet openvino");
    }
}

}  // namespace

Artifact open_openvino_ir(const std::filesystem::path& path) {
    std::shared_ptr<ov::Model> model = read_model(path);
    Artifact artifact;
    artifact.path = path;
    artifact.file_type = FileType::openvino_ir;
    artifact.runtime = "openvino";
    std::map<std::string, std::string> values;
    try {
        values = section(*model, "gnet", "");
        if (values.empty()) values = section(*model, "framework", "gnet.");
    } catch (const std::exception& e) {  // an rt_info entry that is not a string: not gnet's writing
        throw Error(path.string() + " has unusable gnet metadata", openvino_reason(e),
                    "write it again with gnet openvino");
    }
    apply_gnet_metadata(artifact, values);
    if (model->inputs().size() != 1 || model->outputs().size() != 1) {
        throw Error(path.string() + " has " + std::to_string(model->inputs().size()) + " inputs and " +
                        std::to_string(model->outputs().size()) + " outputs",
                    "gnet runs image classifiers with one image input and one logits output");
    }
    const ov::Model& readonly = *model;
    try {
        artifact.input = tensor_of(readonly.input(0));
        artifact.output = tensor_of(readonly.output(0));
    } catch (const std::exception& e) {  // a port without a name
        throw Error(path.string() + " is not gnet's IR", openvino_reason(e), "write it again with gnet openvino");
    }
    check_interface(artifact);
    return artifact;
}

}  // namespace gnet::detail
