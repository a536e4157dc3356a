#pragma once

// Test-only: writes zips with libzip directly, without core/asic's name checks, so tests can
// build hostile archives (path traversal names, bombs, odd layouts).

#include <zip.h>

#include <string>
#include <utility>
#include <vector>

namespace hansa::asic::testing {

struct RawEntry {
  std::string name;
  std::string data;
  bool stored = false;
};

inline std::string raw_zip(const std::vector<RawEntry>& entries) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_source_keep(src);
  zip_t* za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  for (const auto& e : entries) {
    zip_source_t* s = zip_source_buffer(za, e.data.data(), e.data.size(), 0);
    zip_int64_t idx = zip_file_add(za, e.name.c_str(), s, ZIP_FL_ENC_RAW);
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx),
                             e.stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 9);
  }
  zip_close(za);
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(src);
  zip_source_seek(src, 0, SEEK_SET);
  std::string out(static_cast<std::size_t>(size), '\0');
  zip_source_read(src, out.data(), out.size());
  zip_source_close(src);
  zip_source_free(src);
  zip_error_fini(&err);
  return out;
}

}  // namespace hansa::asic::testing
