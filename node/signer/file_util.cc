#include "node/signer/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/crypto/encoding.h"
#include "core/crypto/random.h"

namespace hansa::signer::internal {
namespace {

Error io_error(std::string message, const std::filesystem::path& path) {
  return Error(FaultCode::kIoError, std::move(message),
               path.string() + ": " + std::strerror(errno));
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, std::string_view data) {
  const std::filesystem::path tmp =
      path.string() + ".tmp-" + crypto::hex_encode(crypto::random_bytes(6));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return io_error("cannot create file", tmp);
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      Error e = io_error("cannot write file", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Error e = io_error("cannot sync file", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = io_error("cannot rename file", path);
    ::unlink(tmp.c_str());
    return e;
  }
  // Make the rename durable.
  int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok_status();
}

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return Error(FaultCode::kIoError, "cannot read file", path.string() + ": " + ec.message());
  }
  if (size > max_bytes) {
    return Error(FaultCode::kLimitExceeded, "file too large", path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(FaultCode::kIoError, "cannot open file", path.string());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace hansa::signer::internal
