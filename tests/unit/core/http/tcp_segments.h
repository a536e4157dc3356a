#pragma once

#include <cstdint>
#include <optional>

namespace hansa::testing {

// Segments with data that TCP socket `fd` received (the kernel's tcpi_data_segs_in); nullopt
// when the kernel does not say.
std::optional<std::uint32_t> data_segments_received(int fd);

}  // namespace hansa::testing
