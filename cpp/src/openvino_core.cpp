// One ov::Core for the process, as openvino_ir/runtime.py keeps one, and OpenVINO's messages cut to one clause.
// OpenVINO's messages begin with source locations ("Exception from src/inference/src/cpp/core.cpp:84:") and end
// with what went wrong; gnet quotes only the end.
#include "openvino_core.hpp"

#include <cctype>
#include <sstream>

#include <openvino/runtime/core.hpp>

namespace gnet::detail {

namespace {

// "Check 'x' failed at src/file.cpp:563: what went wrong" → "what went wrong".
std::string without_location(const std::string& line) {
    std::size_t at = line.find("' failed at ");
    if (line.rfind("Check '", 0) != 0 || at == std::string::npos) return line;
    for (at = line.find(':', at); at != std::string::npos; at = line.find(':', at + 1)) {
        std::size_t digits = at + 1;
        while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
        if (digits > at + 1 && digits < line.size() && line[digits] == ':') {
            std::size_t rest = line.find_first_not_of(' ', digits + 1);
            return rest == std::string::npos ? "" : line.substr(rest);
        }
    }
    return line;
}

}  // namespace

ov::Core& openvino_core() {
    static ov::Core core;
    return core;
}

std::string openvino_reason(const std::exception& error) {
    std::istringstream lines(error.what());
    std::string line, last;
    while (std::getline(lines, line)) {
        auto begin = line.find_first_not_of(" \t\r");
        if (begin != std::string::npos) last = line.substr(begin);
    }
    last = without_location(last);
    if (last.empty()) last = "OpenVINO gave no reason";
    return last.size() > 200 ? last.substr(0, 200) : last;
}

}  // namespace gnet::detail
