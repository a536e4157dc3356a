// Fuzz target: the string form of X-Road identifiers (core/ids parse_any and the typed parsers).
// Invariant: whatever parses prints back to a string that parses to an equal identifier.

#include <cstddef>
#include <cstdint>
#include <variant>

#include "core/ids/ids.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;

template <typename Id>
void check_typed(std::string_view text) {
  auto id = Id::parse(text);
  if (!id.ok()) {
    return;
  }
  auto again = Id::parse(id->to_string());
  invariant(again.ok(), "typed identifier re-parses");
  invariant(*again == *id, "typed identifier round-trips");
  invariant(id->to_string().size() <= hansa::ids::kMaxStringFormLength + 16,
            "printed form stays near the input limit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = hansa::fuzz::as_view(data, size);

  auto any = hansa::ids::parse_any(text);
  if (any.ok()) {
    const auto printed = hansa::ids::to_string(*any);
    auto again = hansa::ids::parse_any(printed);
    invariant(again.ok(), "parse_any re-parses its output");
    invariant(*again == *any, "parse_any round-trips");
    invariant(hansa::ids::object_type(*again) == hansa::ids::object_type(*any),
              "object type is kept");
  }

  check_typed<hansa::ids::MemberId>(text);
  check_typed<hansa::ids::SubsystemId>(text);
  check_typed<hansa::ids::ClientId>(text);
  check_typed<hansa::ids::ServiceId>(text);
  check_typed<hansa::ids::SecurityServerId>(text);
  check_typed<hansa::ids::GlobalGroupId>(text);
  check_typed<hansa::ids::LocalGroupId>(text);

  auto service = hansa::ids::ServiceId::parse(text);
  if (service.ok()) {
    const auto bare = service->without_version();
    invariant(!bare.service_version().has_value(), "without_version drops the version");
    auto again = hansa::ids::ServiceId::parse(bare.to_string());
    invariant(again.ok() && *again == bare, "unversioned service round-trips");
  }
  return 0;
}
