// OpenVINO, shared by the IR reader and the runner: one Core per process (it loads the device plugins once) and
// its exceptions turned into one clause.
#pragma once

#include <exception>
#include <string>

namespace ov {
class Core;
}

namespace gnet::detail {

ov::Core& openvino_core();

// The useful clause of an OpenVINO exception: its last line, without "Check '…' failed at file:line:".
std::string openvino_reason(const std::exception& error);

}  // namespace gnet::detail
