// The .npy format (numpy/lib/format.py): the magic "\x93NUMPY", a major and minor version byte, the header's
// length (2 bytes little-endian in 1.0, 4 in 2.0), the header (a Python dict literal with 'descr',
// 'fortran_order' and 'shape'), then the data. Every field is checked before the data is read.
#include "npy.hpp"

#include <cctype>
#include <cstring>
#include <fstream>

#include "gnet/gnet.hpp"

namespace gnet_infer {
namespace {

constexpr std::uint32_t MAX_HEADER = 1u << 16;
constexpr std::int64_t MAX_ELEMENTS = std::int64_t(1) << 32;

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
    throw gnet::Error("cannot read the tensor " + path, why,
                      "write it with numpy.save(path, array.astype(numpy.float32)) from a C-order array (numpy.uint8 "
                      "for camera frames)");
}

// The text after 'key': in the header dict, spaces skipped.
std::string value_after(const std::string& path, const std::string& header, const std::string& key) {
    std::size_t at = header.find("'" + key + "'");
    if (at == std::string::npos) at = header.find("\"" + key + "\"");
    if (at == std::string::npos) refuse(path, "its header has no '" + key + "'");
    at = header.find(':', at + key.size() + 2);
    if (at == std::string::npos) refuse(path, "its header is not a dict");
    at = header.find_first_not_of(' ', at + 1);
    return at == std::string::npos ? "" : header.substr(at);
}

std::vector<std::int64_t> parse_shape(const std::string& path, const std::string& text) {
    if (text.empty() || text[0] != '(') refuse(path, "its header's shape is not a tuple");
    std::vector<std::int64_t> shape;
    std::size_t at = 1;
    while (true) {
        at = text.find_first_not_of(" ,", at);
        if (at == std::string::npos) refuse(path, "its header's shape is not closed");
        if (text[at] == ')') break;
        std::size_t end = at;
        while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
        if (end == at || end - at > 12 || shape.size() >= 8) refuse(path, "its header's shape is not a tuple of sizes");
        shape.push_back(std::stoll(text.substr(at, end - at)));
        at = end;
    }
    return shape;
}

std::string read_header(const std::string& path, std::ifstream& in) {
    char magic[8] = {};
    if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) refuse(path, "it is not a .npy file");
    if (magic[6] != 1 && magic[6] != 2) {
        refuse(path, "it is .npy format version " + std::to_string(int(magic[6])) +
                         ".0, and gnet-infer reads 1.0 and 2.0");
    }
    unsigned char size[4] = {};
    const int size_bytes = magic[6] == 1 ? 2 : 4;
    if (!in.read(reinterpret_cast<char*>(size), size_bytes)) refuse(path, "it ends inside its header");
    std::uint32_t length = size[0] | size[1] << 8 | std::uint32_t(size[2]) << 16 | std::uint32_t(size[3]) << 24;
    if (length > MAX_HEADER) refuse(path, "its header is implausibly long");
    std::string header(length, '\0');
    if (!in.read(header.data(), length)) refuse(path, "it ends inside its header");
    return header;
}

}  // namespace

Tensor read_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) refuse(path, "no such file, or it cannot be opened");
    std::string header = read_header(path, in);
    std::string descr = value_after(path, header, "descr");
    auto is = [&](const std::string& code) {  // 'code' or "code"
        return descr.rfind("'" + code + "'", 0) == 0 || descr.rfind("\"" + code + "\"", 0) == 0;
    };
    const bool frames = is("|u1") || is("<u1") || is(">u1");  // one byte: any byte order is the same
    if (!frames && !is("<f4")) {
        std::string dtype = descr.substr(0, descr.find_first_of(",}"));
        refuse(path, "its dtype is " + dtype + ", not little-endian float32 ('<f4') or uint8 ('|u1')");
    }
    if (value_after(path, header, "fortran_order").rfind("False", 0) != 0) {
        refuse(path, "it is in Fortran order, not C order");
    }
    Tensor tensor;
    tensor.shape = parse_shape(path, value_after(path, header, "shape"));
    std::int64_t count = 1;
    for (std::int64_t d : tensor.shape) {
        count *= d;
        if (count > MAX_ELEMENTS) refuse(path, "it is implausibly large");
    }
    const std::int64_t bytes = count * (frames ? 1 : 4);
    tensor.dtype = frames ? "uint8" : "float32";
    char* into;
    if (frames) {
        tensor.frames.resize(static_cast<std::size_t>(count));
        into = reinterpret_cast<char*>(tensor.frames.data());
    } else {
        tensor.data.resize(static_cast<std::size_t>(count));
        into = reinterpret_cast<char*>(tensor.data.data());
    }
    in.read(into, static_cast<std::streamsize>(bytes));
    if (in.gcount() != bytes || in.peek() != std::char_traits<char>::eof()) {
        refuse(path, "its data does not fill its shape exactly (truncated, or followed by other bytes)");
    }
    return tensor;
}

namespace {

std::string npy_bytes(const std::vector<std::int64_t>& shape, const char* descr, const char* data, std::size_t bytes) {
    std::string dims;
    for (std::int64_t d : shape) dims += std::to_string(d) + ", ";
    if (shape.size() > 1) dims.resize(dims.size() - 2);
    std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    const std::size_t unpadded = 10 + header.size() + 1;  // magic, version, length, header, newline
    header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";  // numpy aligns the data to 64 bytes
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    out.append(data, bytes);
    return out;
}

}  // namespace

std::string npy_bytes(const std::vector<std::int64_t>& shape, const std::vector<float>& data) {
    return npy_bytes(shape, "<f4", reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float));
}

std::string npy_bytes(const std::vector<std::int64_t>& shape, const std::vector<std::uint8_t>& frames) {
    return npy_bytes(shape, "|u1", reinterpret_cast<const char*>(frames.data()), frames.size());
}

}  // namespace gnet_infer
