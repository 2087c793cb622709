// A protobuf wire-format reader for the few ONNX fields gnet reads (onnx.proto):
//   ModelProto.graph = 7, ModelProto.metadata_props = 14 (StringStringEntryProto: key = 1, value = 2);
//   GraphProto.initializer = 5 (TensorProto.name = 8), GraphProto.input = 11, GraphProto.output = 12;
//   ValueInfoProto: name = 1, type = 2 → TypeProto.tensor_type = 1 → elem_type = 1, shape = 2
//   → TensorShapeProto.dim = 1 → dim_value = 1 | dim_param = 2.
// Every length is checked against the bytes that remain before it is used, and big fields (the weights) are
// skipped by seeking, so a hostile or truncated file costs a few reads and ends in one sentence. Files are
// checked here before OpenVINO sees them: OpenVINO hands a file its ONNX reader refuses to every other
// frontend, which log to stderr.
#include "onnx_file.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <vector>

#include "gnet/gnet.hpp"
#include "sha256.hpp"

namespace gnet::detail {
namespace {

constexpr std::uint64_t MAX_STRING = 64u << 20;      // a metadata value (class names, preprocessing)
constexpr std::uint64_t MAX_VALUE_INFO = 1u << 20;   // one graph input or output's description
constexpr std::size_t MAX_ENTRIES = 100000;          // metadata entries, inputs, outputs, initializers, dims

enum WireType { VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5 };

// The file, read at absolute offsets; it seeks only when a read does not follow the previous one, so walking
// small fields costs no system call per byte.
class Source {
public:
    explicit Source(const std::filesystem::path& path) : file_(path, std::ios::binary) {}
    bool is_open() const { return bool(file_); }

    int byte_at(std::uint64_t offset) {
        if (!move_to(offset)) return -1;
        int byte = file_.get();
        if (byte == std::char_traits<char>::eof()) return -1;
        ++position_;
        return byte;
    }

    bool read_at(std::uint64_t offset, char* out, std::size_t count) {
        if (!move_to(offset) || !file_.read(out, static_cast<std::streamsize>(count))) return false;
        position_ += count;
        return true;
    }

private:
    bool move_to(std::uint64_t offset) {
        if (offset != position_) {
            file_.clear();
            file_.seekg(static_cast<std::streamoff>(offset));
            position_ = offset;
        }
        return bool(file_);
    }

    std::ifstream file_;
    std::uint64_t position_ = 0;
};

struct Field {
    std::uint32_t number = 0;
    int wire_type = 0;
    std::uint64_t value = 0;   // VARINT's value
    std::uint64_t offset = 0;  // LEN: where its bytes start in the file
    std::uint64_t length = 0;  // LEN: how many
};

// Reads the fields of one message lying at [begin, end) of the file.
class WireReader {
public:
    WireReader(Source& file, const std::string& where, std::uint64_t begin, std::uint64_t end)
        : file_(file), where_(where), at_(begin), end_(end) {}

    bool next(Field& field) {
        if (at_ >= end_) return false;
        std::uint64_t tag = varint();
        field = Field{};
        field.number = static_cast<std::uint32_t>(tag >> 3);
        field.wire_type = static_cast<int>(tag & 7);
        if (field.number == 0 || tag >> 32) fail("a field number is invalid");
        switch (field.wire_type) {
            case VARINT: field.value = varint(); break;
            case FIXED64: skip(8); break;
            case FIXED32: skip(4); break;
            case LEN:
                field.length = varint();
                field.offset = at_;
                skip(field.length);
                break;
            default: fail("a field has an unknown wire type");
        }
        return true;
    }

    WireReader sub(const Field& field) const {
        return WireReader(file_, where_, field.offset, field.offset + field.length);
    }

    std::string bytes(const Field& field, std::uint64_t limit) {
        if (field.length > limit) {
            fail("a field is larger than gnet reads (" + std::to_string(field.length) + " bytes)");
        }
        std::string out(static_cast<std::size_t>(field.length), '\0');
        if (!file_.read_at(field.offset, out.data(), out.size())) fail("it ends inside a field");
        return out;
    }

    // The SHA-256 of a field's bytes, read in chunks.
    std::string digest(const Field& field) {
        Sha256 hash;
        std::vector<char> chunk(1 << 20);
        for (std::uint64_t done = 0; done < field.length;) {
            std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), field.length - done));
            if (!file_.read_at(field.offset + done, chunk.data(), take)) fail("it ends inside a field");
            hash.update(chunk.data(), take);
            done += take;
        }
        return hash.hex();
    }

    [[noreturn]] void fail(const std::string& why) const {
        throw Error("cannot read the ONNX file " + where_, "it is truncated or not an ONNX model (" + why + ")",
                    "export it again with gnet export");
    }

private:
    std::uint64_t varint() {
        std::uint64_t out = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at_ >= end_) fail("it ends inside a number");
            int byte = file_.byte_at(at_++);
            if (byte < 0) fail("it ends inside a number");
            out |= std::uint64_t(byte & 0x7f) << shift;
            if (!(byte & 0x80)) return out;
        }
        fail("a number is longer than 10 bytes");
    }

    void skip(std::uint64_t count) {
        if (count > end_ - at_) fail("a field runs past the end of its message");
        at_ += count;
    }

    Source& file_;
    std::string where_;
    std::uint64_t at_, end_;
};

void count_check(WireReader& reader, std::size_t count) {
    if (count > MAX_ENTRIES) reader.fail("it has more than " + std::to_string(MAX_ENTRIES) + " entries of one kind");
}

std::pair<std::string, std::string> read_entry(WireReader& reader, const Field& field) {
    WireReader entry = reader.sub(field);
    std::pair<std::string, std::string> out;
    for (Field f; entry.next(f);) {
        if (f.wire_type != LEN) continue;
        if (f.number == 1) out.first = entry.bytes(f, MAX_STRING);
        if (f.number == 2) out.second = entry.bytes(f, MAX_STRING);
    }
    return out;
}

std::vector<std::int64_t> read_shape(WireReader& reader, const Field& field) {
    std::vector<std::int64_t> dims;
    WireReader shape = reader.sub(field);
    for (Field dim; shape.next(dim);) {
        if (dim.number != 1 || dim.wire_type != LEN) continue;
        count_check(reader, dims.size());
        std::int64_t value = -1;  // dim_param (a name such as "batch") or nothing: dynamic
        WireReader d = shape.sub(dim);
        for (Field f; d.next(f);) {
            if (f.number == 1 && f.wire_type == VARINT) value = static_cast<std::int64_t>(f.value);
        }
        dims.push_back(value);
    }
    return dims;
}

void read_tensor_type(WireReader& reader, const Field& field, OnnxValueInfo& info) {
    WireReader tensor = reader.sub(field);
    for (Field f; tensor.next(f);) {
        if (f.number == 1 && f.wire_type == VARINT) info.elem_type = static_cast<int>(f.value);
        if (f.number == 2 && f.wire_type == LEN) info.dims = read_shape(tensor, f);
    }
}

OnnxValueInfo read_value_info(WireReader& reader, const Field& field) {
    if (field.length > MAX_VALUE_INFO) reader.fail("a graph input or output is implausibly large");
    OnnxValueInfo info;
    WireReader value = reader.sub(field);
    for (Field f; value.next(f);) {
        if (f.wire_type != LEN) continue;
        if (f.number == 1) info.name = value.bytes(f, MAX_STRING);
        if (f.number != 2) continue;
        WireReader type = value.sub(f);
        for (Field t; type.next(t);) {
            if (t.number == 1 && t.wire_type == LEN) read_tensor_type(type, t, info);
        }
    }
    return info;
}

std::string initializer_name(WireReader& reader, const Field& field) {
    WireReader tensor = reader.sub(field);
    for (Field f; tensor.next(f);) {  // skips dims, raw_data and the rest by seeking
        if (f.number == 8 && f.wire_type == LEN) return tensor.bytes(f, MAX_STRING);
    }
    return "";
}

void read_graph(WireReader& reader, const Field& field, OnnxFacts& facts) {
    WireReader graph = reader.sub(field);
    std::set<std::string> initializers;
    std::vector<OnnxValueInfo> inputs;
    for (Field f; graph.next(f);) {
        if (f.wire_type != LEN) continue;
        if (f.number == 5) initializers.insert(initializer_name(graph, f));
        if (f.number == 11) inputs.push_back(read_value_info(graph, f));
        if (f.number == 12) facts.outputs.push_back(read_value_info(graph, f));
        count_check(graph, std::max({initializers.size(), inputs.size(), facts.outputs.size()}));
    }
    for (OnnxValueInfo& input : inputs) {  // old exporters list the weights as graph inputs too
        if (!initializers.count(input.name)) facts.inputs.push_back(std::move(input));
    }
}

}  // namespace

std::string onnx_dtype(int elem_type) {
    switch (elem_type) {
        case 1: return "float32";
        case 10: return "float16";
        case 2: return "uint8";
        case 3: return "int8";
        default: return "";
    }
}

OnnxFacts read_onnx_facts(const std::filesystem::path& path) {
    Source file(path);
    std::error_code size_error;
    std::uint64_t size = std::filesystem::file_size(path, size_error);
    if (!file.is_open() || size_error) {
        throw Error("cannot read the ONNX file " + path.string(), "it does not exist or cannot be opened");
    }
    WireReader model(file, path.string(), 0, size);
    OnnxFacts facts;
    bool has_graph = false;
    for (Field f; model.next(f);) {
        if (f.number == 7 && f.wire_type == LEN) {
            read_graph(model, f, facts);
            facts.graph_sha256 = model.digest(f);  // the graph is written once: one GraphProto field
            has_graph = true;
        } else if (f.number == 14 && f.wire_type == LEN) {
            count_check(model, facts.metadata_props.size());
            auto [key, value] = read_entry(model, f);
            facts.metadata_props[key] = value;  // a repeated key: the last one, as onnx's Python reads them
        }
    }
    if (!has_graph) model.fail("it holds no graph");
    return facts;
}

}  // namespace gnet::detail
