// gnet::Error: three parts kept apart (what failed, why, what to do), joined into one line by what().
#include "gnet/gnet.hpp"

#include <utility>

namespace gnet {
namespace {

// Library messages (OpenVINO's, libpng's) can span lines; a sentence on a terminal must not.
std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    return text;
}

std::string sentence(const std::string& headline, const std::string& why, const std::string& remedy) {
    std::string out = headline;
    if (!why.empty()) out += ": " + why;
    if (!remedy.empty()) out += "; " + remedy;
    return one_line(out);
}

}  // namespace

Error::Error(std::string headline, std::string why, std::string remedy, ErrorKind kind)
    : std::runtime_error(sentence(headline, why, remedy)),
      headline_(one_line(std::move(headline))),
      why_(one_line(std::move(why))),
      remedy_(one_line(std::move(remedy))),
      kind_(kind) {}

}  // namespace gnet
