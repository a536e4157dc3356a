// Kept apart from the tests: <linux/tcp.h> and <netinet/tcp.h> cannot share a translation unit.
#include "tests/unit/core/http/tcp_segments.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace hansa::testing {

std::optional<std::uint32_t> data_segments_received(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(tcp_info, tcpi_data_segs_in) + sizeof info.tcpi_data_segs_in) {
    return std::nullopt;
  }
  return info.tcpi_data_segs_in;
}

}  // namespace hansa::testing
