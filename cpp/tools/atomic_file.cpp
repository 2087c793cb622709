#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "gnet/gnet.hpp"

namespace gnet_infer {
namespace {

// Temporary files to remove if a signal ends the process: plain char arrays, because a signal handler may only
// call async-signal-safe functions (unlink) and must not allocate.
constexpr int MAX_PENDING = 8;
char pending[MAX_PENDING][4096];
volatile std::sig_atomic_t pending_used[MAX_PENDING];

void on_signal(int signal_number) {
    for (int i = 0; i < MAX_PENDING; ++i) {
        if (pending_used[i]) unlink(pending[i]);
    }
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);  // exit as the signal would have: 130 for Ctrl-C, 143 for SIGTERM
}

int remember(const std::string& path) {
    static bool installed = false;
    if (!installed) {
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        installed = true;
    }
    for (int i = 0; i < MAX_PENDING; ++i) {
        if (!pending_used[i] && path.size() < sizeof pending[i]) {
            std::memcpy(pending[i], path.c_str(), path.size() + 1);
            pending_used[i] = 1;
            return i;
        }
    }
    return -1;
}

void forget(const std::string& path) {
    for (int i = 0; i < MAX_PENDING; ++i) {
        if (pending_used[i] && path == pending[i]) pending_used[i] = 0;
    }
}

[[noreturn]] void cannot_write(const std::string& destination, int error) {
    throw gnet::Error("cannot write " + destination, std::strerror(error),
                      "choose a path in a folder you can write to");
}

}  // namespace

AtomicFile::AtomicFile(std::string destination) : destination_(std::move(destination)) {
    std::filesystem::path dest(destination_);
    std::error_code error;
    if (std::filesystem::is_directory(dest, error)) cannot_write(destination_, EISDIR);
    std::filesystem::path folder = dest.parent_path().empty() ? std::filesystem::path(".") : dest.parent_path();
    std::string pattern = (folder / ("." + dest.filename().string() + ".XXXXXX")).string();
    fd_ = mkstemp(pattern.data());
    if (fd_ < 0) cannot_write(destination_, errno);
    temporary_ = pattern;
    remember(temporary_);
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) close(fd_);
    if (!committed_ && !temporary_.empty()) {
        unlink(temporary_.c_str());
        forget(temporary_);
    }
}

void AtomicFile::write(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) cannot_write(destination_, n < 0 ? errno : ENOSPC);
        done += static_cast<std::size_t>(n);
    }
}

void AtomicFile::commit() {
    mode_t mask = umask(0);  // mkstemp made it 0600; give it the mode a plain open() would
    umask(mask);
    if (fchmod(fd_, 0666 & ~mask) != 0 || fsync(fd_) != 0) cannot_write(destination_, errno);
    close(fd_);
    fd_ = -1;
    if (std::rename(temporary_.c_str(), destination_.c_str()) != 0) cannot_write(destination_, errno);
    committed_ = true;
    forget(temporary_);
}

}  // namespace gnet_infer
