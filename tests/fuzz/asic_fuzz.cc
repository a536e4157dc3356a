// Fuzz target: ASiC-E containers and message-log archives (core/asic read_zip, read_container,
// contents_of, read_archive, verify_linking, parse_linking_info; reference sections 4 and 8).
// Invariants: entries read from a zip write back (write_zip) to a zip that reads to the same
// entries; linkinginfo that parses formats to text that parses to the same info.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/asic/asic.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;
namespace asic = hansa::asic;

bool same_entries(const std::vector<asic::Entry>& a, const std::vector<asic::Entry>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].data != b[i].data) {
      return false;
    }
  }
  return true;
}

bool same_linking(const asic::LinkingInfo& a, const asic::LinkingInfo& b) {
  if (a.previous_digest != b.previous_digest || a.previous_file != b.previous_file ||
      a.algorithm != b.algorithm || a.entries.size() != b.entries.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    if (a.entries[i].digest_hex != b.entries[i].digest_hex ||
        a.entries[i].name != b.entries[i].name) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = hansa::fuzz::as_view(data, size);
  const asic::ReadLimits limits{.max_zip_bytes = 256 * 1024,
                                .max_entries = 32,
                                .max_entry_bytes = 256 * 1024,
                                .max_total_bytes = 512 * 1024,
                                .max_name_bytes = 128};

  if (auto entries = asic::read_zip(input, limits); entries.ok()) {
    invariant(entries->size() <= limits.max_entries, "entry limit holds");
    // libzip reads a zero-byte input as an empty zip, which write_zip cannot produce: round-trip
    // only zips with entries.
    if (!entries->empty()) {
      auto written = asic::write_zip(*entries);
      invariant(written.ok(), "entries read from a zip can be written");
      auto again = asic::read_zip(*written);
      invariant(again.ok() && same_entries(*again, *entries), "zip entries round-trip");
    }
  }
  if (auto container = asic::read_container(input, limits); container.ok()) {
    invariant(container->find(asic::kMimeTypeEntry) != nullptr, "a container has its mimetype");
    if (auto contents = asic::contents_of(*container); contents.ok()) {
      (void)asic::make_manifest(*contents);
    }
  }
  asic::ArchiveLimits archive_limits;
  archive_limits.zip = limits;
  if (auto archive = asic::read_archive(input, archive_limits); archive.ok()) {
    (void)asic::verify_linking(*archive, std::nullopt);
    (void)asic::verify_linking(*archive, std::string());
  }
  if (auto linking = asic::parse_linking_info(input, 64); linking.ok()) {
    invariant(linking->entries.size() <= 64, "linking entry limit holds");
    auto again = asic::parse_linking_info(asic::format_linking_info(*linking), 64);
    invariant(again.ok() && same_linking(*again, *linking), "linkinginfo round-trips");
  }
  return 0;
}
