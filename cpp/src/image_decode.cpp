// Decoding with libpng and libjpeg(-turbo). Both report errors by longjmp from a callback, so each library call
// sequence runs inside a small function that holds setjmp and no C++ object with a destructor; the error text is
// copied into a fixed buffer and becomes the sentence's reason. Warnings are silenced (they are not failures),
// except libjpeg's "premature end of JPEG file", which it would otherwise fill with grey: a truncated JPEG is
// refused, as Pillow refuses it.
#include "image_decode.hpp"

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "gnet/gnet.hpp"

namespace gnet::detail {
namespace {

// The sentences.

Error unreadable(const std::filesystem::path& path, const std::string& why) {
    return Error("cannot read image " + path.string(), why);
}

void refuse_huge(const std::filesystem::path& path, std::uint64_t width, std::uint64_t height) {
    if (width * height > MAX_IMAGE_PIXELS) {  // before decoding: a bomb would exhaust memory
        throw Error("cannot read image " + path.string(),
                    "it has " + std::to_string(width) + "×" + std::to_string(height) +
                        " pixels, more than the 89,478,485 a decompression-bomb check allows",
                    "resize it");
    }
}

// A kind of image gnet does not feed: Pillow would convert it silently; here the user converts it knowingly.
Error unsupported(const std::filesystem::path& path, const std::string& what_it_is, const std::string& reads,
                  const std::string& convert_to) {
    return Error("cannot read image " + path.string(), "it is " + what_it_is + ", and gnet reads " + reads,
                 "convert it to " + convert_to);
}

const char* const TO_RGB_PNG = "an 8-bit RGB or RGBA PNG (e.g. Pillow: image.convert(\"RGB\").save(\"x.png\"))";

struct File {
    std::FILE* handle;
    explicit File(const std::filesystem::path& path) : handle(std::fopen(path.c_str(), "rb")) {}
    ~File() { if (handle) std::fclose(handle); }
    File(const File&) = delete;
    File& operator=(const File&) = delete;
};

// PNG.

struct PngState {
    png_structp png = nullptr;
    png_infop info = nullptr;
    char message[256] = "";
    ~PngState() { png_destroy_read_struct(&png, &info, nullptr); }
};

void on_png_error(png_structp png, png_const_charp message) {
    auto* state = static_cast<PngState*>(png_get_error_ptr(png));
    std::snprintf(state->message, sizeof state->message, "%s", message);
    png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

bool png_read_header(PngState& state, std::FILE* file) {
    if (setjmp(png_jmpbuf(state.png))) return false;
    png_init_io(state.png, file);
    png_read_info(state.png, state.info);
    return true;
}

bool png_set_rgb8(PngState& state) {
    if (setjmp(png_jmpbuf(state.png))) return false;
    int color = png_get_color_type(state.png, state.info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(state.png);  // Pillow: P → RGB, the same lookup
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(state.png);        // Pillow: RGBA → RGB drops alpha
    png_set_interlace_handling(state.png);
    png_read_update_info(state.png, state.info);
    return true;
}

bool png_read_rows(PngState& state, png_bytepp rows) {
    if (setjmp(png_jmpbuf(state.png))) return false;
    png_read_image(state.png, rows);
    return true;
}

void refuse_png_kind(const std::filesystem::path& path, const PngState& state) {
    int color = png_get_color_type(state.png, state.info);
    int depth = png_get_bit_depth(state.png, state.info);
    if (!(color & PNG_COLOR_MASK_COLOR)) throw unsupported(path, "a grayscale PNG", "colour images only", TO_RGB_PNG);
    if (depth == 16) throw unsupported(path, "a 16-bit PNG", "8 bits per channel", TO_RGB_PNG);
}

RgbImage decode_png(const std::filesystem::path& path, std::FILE* file) {
    PngState state;
    state.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
    if (state.png) state.info = png_create_info_struct(state.png);
    if (!state.info) throw unreadable(path, "out of memory");
    if (!png_read_header(state, file)) throw unreadable(path, std::string("it is corrupt (") + state.message + ")");
    refuse_huge(path, png_get_image_width(state.png, state.info), png_get_image_height(state.png, state.info));
    refuse_png_kind(path, state);
    if (!png_set_rgb8(state)) throw unreadable(path, std::string("it is corrupt (") + state.message + ")");
    RgbImage image;
    image.width = static_cast<int>(png_get_image_width(state.png, state.info));
    image.height = static_cast<int>(png_get_image_height(state.png, state.info));
    std::size_t stride = std::size_t(image.width) * 3;
    if (png_get_rowbytes(state.png, state.info) != stride) throw unreadable(path, "its pixel layout is not 8-bit RGB");
    image.pixels.resize(stride * std::size_t(image.height));
    std::vector<png_bytep> rows(static_cast<std::size_t>(image.height));
    for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = image.pixels.data() + y * stride;
    if (!png_read_rows(state, rows.data())) {
        throw unreadable(path, std::string("it is corrupt or truncated (") + state.message + ")");
    }
    return image;
}

// JPEG.

struct JpegErrors {
    jpeg_error_mgr manager;  // first: libjpeg hands back a pointer to it
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX] = "";
};

void on_jpeg_error(j_common_ptr info) {
    auto* errors = reinterpret_cast<JpegErrors*>(info->err);
    info->err->format_message(info, errors->message);
    std::longjmp(errors->jump, 1);
}

void on_jpeg_message(j_common_ptr info, int level) {
    if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) on_jpeg_error(info);  // truncated: refuse, never pad
}

struct JpegState {
    jpeg_decompress_struct info{};
    JpegErrors errors;
    bool created = false;
    ~JpegState() { if (created) jpeg_destroy_decompress(&info); }
};

bool jpeg_read_header_of(JpegState& state, std::FILE* file) {
    if (setjmp(state.errors.jump)) return false;
    jpeg_create_decompress(&state.info);
    state.created = true;
    jpeg_stdio_src(&state.info, file);
    jpeg_read_header(&state.info, TRUE);
    return true;
}

bool jpeg_read_rows(JpegState& state, unsigned char* pixels, std::size_t stride) {
    if (setjmp(state.errors.jump)) return false;
    state.info.out_color_space = JCS_RGB;  // libjpeg's defaults otherwise, as Pillow's: islow DCT, fancy upsampling
    jpeg_start_decompress(&state.info);
    while (state.info.output_scanline < state.info.output_height) {
        JSAMPROW row = pixels + std::size_t(state.info.output_scanline) * stride;
        jpeg_read_scanlines(&state.info, &row, 1);
    }
    jpeg_finish_decompress(&state.info);
    return true;
}

RgbImage decode_jpeg(const std::filesystem::path& path, std::FILE* file) {
    JpegState state;
    state.info.err = jpeg_std_error(&state.errors.manager);
    state.errors.manager.error_exit = on_jpeg_error;
    state.errors.manager.emit_message = on_jpeg_message;
    if (!jpeg_read_header_of(state, file)) {
        throw unreadable(path, std::string("it is corrupt (") + state.errors.message + ")");
    }
    refuse_huge(path, state.info.image_width, state.info.image_height);
    J_COLOR_SPACE space = state.info.jpeg_color_space;
    if (space == JCS_GRAYSCALE) throw unsupported(path, "a grayscale JPEG", "colour images only", TO_RGB_PNG);
    if (space == JCS_CMYK || space == JCS_YCCK) {
        throw unsupported(path, "a CMYK JPEG", "RGB (YCbCr) JPEGs", "an RGB JPEG or " + std::string(TO_RGB_PNG));
    }
    RgbImage image;
    image.width = static_cast<int>(state.info.image_width);
    image.height = static_cast<int>(state.info.image_height);
    std::size_t stride = std::size_t(image.width) * 3;
    image.pixels.resize(stride * std::size_t(image.height));
    if (!jpeg_read_rows(state, image.pixels.data(), stride)) {
        throw unreadable(path, std::string("it is corrupt or truncated (") + state.errors.message + ")");
    }
    return image;
}

}  // namespace

RgbImage decode_image(const std::filesystem::path& path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) throw unreadable(path, "no such file");
    if (!std::filesystem::is_regular_file(path, error)) throw unreadable(path, "it is not a file");
    File file(path);
    if (!file.handle) throw unreadable(path, std::strerror(errno));
    unsigned char magic[8] = {};
    std::size_t got = std::fread(magic, 1, sizeof magic, file.handle);
    std::rewind(file.handle);
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (got == 8 && std::memcmp(magic, png_magic, 8) == 0) return decode_png(path, file.handle);
    if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff) return decode_jpeg(path, file.handle);
    throw unreadable(path, got == 0 ? "it is empty" : "it is neither a PNG nor a JPEG file");
}

}  // namespace gnet::detail
