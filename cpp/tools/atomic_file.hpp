// A file written atomically, as every gnet artifact is: a temporary file beside the destination, created when the
// command starts (so an unwritable path fails before any work), renamed over the destination when all is written.
// A failed or interrupted run (SIGINT, SIGTERM) removes the temporary file and leaves the previous file intact.
#pragma once

#include <string>

namespace gnet_infer {

class AtomicFile {
public:
    explicit AtomicFile(std::string destination);  // throws gnet::Error when the folder cannot be written
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const std::string& bytes);
    void commit();  // rename the temporary file over the destination

private:
    std::string destination_, temporary_;
    int fd_ = -1;
    bool committed_ = false;
};

}  // namespace gnet_infer
