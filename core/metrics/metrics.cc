#include "core/metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "core/errors/errors.h"

namespace hansa::metrics {

namespace detail {

// One time series: `slots` atomics. Counter and gauge use slot 0 (a double's bits); a histogram
// uses one count per bucket (non-cumulative, +Inf last), then the sum's bits.
struct Series {
  explicit Series(std::size_t slots) : n(slots), v(new std::atomic<std::uint64_t>[slots]) {
    for (std::size_t i = 0; i < n; ++i) {
      v[i].store(0, std::memory_order_relaxed);
    }
  }
  std::size_t n;
  std::unique_ptr<std::atomic<std::uint64_t>[]> v;
  std::string labels;  // rendered label text, "{a=\"x\"}" or ""
};

}  // namespace detail

namespace {

double bits_to_double(std::uint64_t b) noexcept {
  double d;
  static_assert(sizeof d == sizeof b);
  std::memcpy(&d, &b, sizeof d);
  return d;
}

std::uint64_t double_to_bits(double d) noexcept {
  std::uint64_t b;
  std::memcpy(&b, &d, sizeof d);
  return b;
}

void atomic_add(std::atomic<std::uint64_t>& a, double amount) noexcept {
  std::uint64_t cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, double_to_bits(bits_to_double(cur) + amount),
                                  std::memory_order_relaxed)) {
  }
}

double atomic_get(const std::atomic<std::uint64_t>& a) noexcept {
  return bits_to_double(a.load(std::memory_order_relaxed));
}

// Truncates `v` to at most `max` bytes without splitting a UTF-8 sequence.
void truncate_utf8(std::string& v, std::size_t max) {
  if (v.size() <= max) {
    return;
  }
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(v[end]) & 0xC0) == 0x80) {
    --end;
  }
  v.resize(end);
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  HANSA_CHECK(res.ec == std::errc());
  return std::string(buf, res.ptr);
}

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) {
      return false;
    }
  }
  return true;
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || name.find(':') != std::string_view::npos || name.starts_with("__")) {
    return false;
  }
  return valid_metric_name(name);
}

std::vector<double> default_latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

// ---- handles

void Counter::inc(double amount) const noexcept {
  if (s_ == nullptr || !(amount >= 0)) {
    return;
  }
  atomic_add(s_->v[0], amount);
}

double Counter::value() const noexcept { return s_ ? atomic_get(s_->v[0]) : 0; }

void Gauge::set(double v) const noexcept {
  if (s_ != nullptr) {
    s_->v[0].store(double_to_bits(v), std::memory_order_relaxed);
  }
}

void Gauge::inc(double amount) const noexcept {
  if (s_ != nullptr) {
    atomic_add(s_->v[0], amount);
  }
}

void Gauge::dec(double amount) const noexcept { inc(-amount); }

double Gauge::value() const noexcept { return s_ ? atomic_get(s_->v[0]) : 0; }

void Histogram::observe(double v) const noexcept {
  if (s_ == nullptr || std::isnan(v)) {
    return;
  }
  // First bucket whose upper bound is >= v; the +Inf bucket otherwise.
  auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
  std::size_t idx = static_cast<std::size_t>(it - bounds_->begin());
  s_->v[idx].fetch_add(1, std::memory_order_relaxed);
  atomic_add(s_->v[bounds_->size() + 1], v);
}

std::uint64_t Histogram::count() const noexcept {
  if (s_ == nullptr) {
    return 0;
  }
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_->size(); ++i) {
    total += s_->v[i].load(std::memory_order_relaxed);
  }
  return total;
}

double Histogram::sum() const noexcept { return s_ ? atomic_get(s_->v[bounds_->size() + 1]) : 0; }

// ---- families

struct Family::State {
  mutable std::mutex mu;
  std::map<std::vector<std::string>, detail::Series*> index;
  std::vector<std::unique_ptr<detail::Series>> series;  // creation order
  detail::Series* overflow = nullptr;
  std::atomic<std::uint64_t> overflowed{0};
};

Family::Family(Kind kind, std::string name, std::string help, std::vector<std::string> label_names,
               const RegistryLimits& limits, std::size_t slots)
    : kind_(kind),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      limits_(limits),
      slots_(slots),
      state_(std::make_unique<State>()) {}

Family::~Family() = default;

std::uint64_t Family::overflowed() const noexcept {
  return state_->overflowed.load(std::memory_order_relaxed);
}

std::size_t Family::series_count() const {
  std::lock_guard lock(state_->mu);
  return state_->series.size();
}

namespace {

std::string label_text(const std::vector<std::string>& names,
                       const std::vector<std::string>& values) {
  if (names.empty()) {
    return {};
  }
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

detail::Series* Family::series_for(std::vector<std::string> label_values) {
  HANSA_CHECK(label_values.size() == label_names_.size());
  for (auto& v : label_values) {
    truncate_utf8(v, limits_.max_label_value_bytes);
  }
  std::lock_guard lock(state_->mu);
  auto it = state_->index.find(label_values);
  if (it != state_->index.end()) {
    return it->second;
  }
  std::size_t regular = state_->series.size() - (state_->overflow != nullptr ? 1 : 0);
  if (regular >= limits_.max_series_per_family) {
    state_->overflowed.fetch_add(1, std::memory_order_relaxed);
    if (state_->overflow == nullptr) {
      auto s = std::make_unique<detail::Series>(slots_);
      std::vector<std::string> values(label_names_.size(), std::string(kOverflowLabelValue));
      s->labels = label_text(label_names_, values);
      state_->overflow = s.get();
      state_->series.push_back(std::move(s));
    }
    return state_->overflow;
  }
  auto s = std::make_unique<detail::Series>(slots_);
  s->labels = label_text(label_names_, label_values);
  detail::Series* raw = s.get();
  state_->series.push_back(std::move(s));
  state_->index.emplace(std::move(label_values), raw);
  return raw;
}

void Family::render_header(std::string& out, std::string_view type) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type;
  out += '\n';
}

void Family::for_each(
    const std::function<void(const std::string&, const detail::Series&)>& fn) const {
  std::lock_guard lock(state_->mu);
  for (const auto& s : state_->series) {
    fn(s->labels, *s);
  }
}

Counter CounterFamily::with(std::vector<std::string> label_values) {
  return Counter(series_for(std::move(label_values)));
}

void CounterFamily::render(std::string& out) const {
  render_header(out, "counter");
  for_each([&](const std::string& labels, const detail::Series& s) {
    out += name();
    out += labels;
    out += ' ';
    out += format_value(atomic_get(s.v[0]));
    out += '\n';
  });
}

Gauge GaugeFamily::with(std::vector<std::string> label_values) {
  return Gauge(series_for(std::move(label_values)));
}

void GaugeFamily::render(std::string& out) const {
  render_header(out, "gauge");
  for_each([&](const std::string& labels, const detail::Series& s) {
    out += name();
    out += labels;
    out += ' ';
    out += format_value(atomic_get(s.v[0]));
    out += '\n';
  });
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, const RegistryLimits& limits,
                                 std::vector<double> bounds)
    : Family(Kind::kHistogram, std::move(name), std::move(help), std::move(label_names), limits,
             bounds.size() + 2),
      bounds_(std::move(bounds)) {}

Histogram HistogramFamily::with(std::vector<std::string> label_values) {
  return Histogram(series_for(std::move(label_values)), &bounds_);
}

namespace {

// Inserts `le="bound"` as the last label of a rendered label text.
std::string with_le(const std::string& labels, const std::string& le) {
  if (labels.empty()) {
    return "{le=\"" + le + "\"}";
  }
  return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

void HistogramFamily::render(std::string& out) const {
  render_header(out, "histogram");
  for_each([&](const std::string& labels, const detail::Series& s) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s.v[i].load(std::memory_order_relaxed);
      out += name();
      out += "_bucket";
      out += with_le(labels, i < bounds_.size() ? format_value(bounds_[i]) : "+Inf");
      out += ' ';
      out += std::to_string(cumulative);
      out += '\n';
    }
    out += name();
    out += "_sum";
    out += labels;
    out += ' ';
    out += format_value(atomic_get(s.v[bounds_.size() + 1]));
    out += '\n';
    out += name();
    out += "_count";
    out += labels;
    out += ' ';
    out += std::to_string(cumulative);
    out += '\n';
  });
}

// ---- registry

namespace {

// A gauge rendered from a callback at scrape time.
struct CallbackFamily {
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::function<std::vector<Sample>()> fn;
};

}  // namespace

struct Registry::Impl {
  mutable std::mutex mu;
  // Registration order; exactly one of the two pointers is set per entry.
  struct Entry {
    Family* family = nullptr;
    CallbackFamily* callback = nullptr;
    std::string kind;
    std::vector<std::string> label_names;
  };
  std::vector<Entry> order;
  std::map<std::string, std::size_t, std::less<>> by_name;
  std::vector<std::unique_ptr<Family>> families;
  std::vector<std::unique_ptr<CallbackFamily>> callbacks;

  // The existing entry for `name` (checked to match) or nullptr.
  Entry* find(std::string_view name, std::string_view kind,
              const std::vector<std::string>& label_names) {
    HANSA_CHECK(valid_metric_name(name));
    for (const auto& l : label_names) {
      HANSA_CHECK(valid_label_name(l));
    }
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return nullptr;
    }
    Entry& e = order[it->second];
    HANSA_CHECK(e.kind == kind && e.label_names == label_names);
    return &e;
  }
  void add(std::string name, Entry e) {
    by_name.emplace(std::move(name), order.size());
    order.push_back(std::move(e));
  }
};

Registry::Registry(RegistryLimits limits) : limits_(limits), impl_(std::make_unique<Impl>()) {}

Registry::~Registry() = default;

CounterFamily& Registry::counter(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names) {
  std::lock_guard lock(impl_->mu);
  if (auto* e = impl_->find(name, "counter", label_names)) {
    return static_cast<CounterFamily&>(*e->family);
  }
  auto f = std::unique_ptr<CounterFamily>(new CounterFamily(
      Family::Kind::kCounter, std::string(name), std::string(help), label_names, limits_, 1));
  CounterFamily& ref = *f;
  impl_->add(std::string(name), {f.get(), nullptr, "counter", std::move(label_names)});
  impl_->families.push_back(std::move(f));
  return ref;
}

GaugeFamily& Registry::gauge(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names) {
  std::lock_guard lock(impl_->mu);
  if (auto* e = impl_->find(name, "gauge", label_names)) {
    HANSA_CHECK(e->family != nullptr);
    return static_cast<GaugeFamily&>(*e->family);
  }
  auto f = std::unique_ptr<GaugeFamily>(new GaugeFamily(
      Family::Kind::kGauge, std::string(name), std::string(help), label_names, limits_, 1));
  GaugeFamily& ref = *f;
  impl_->add(std::string(name), {f.get(), nullptr, "gauge", std::move(label_names)});
  impl_->families.push_back(std::move(f));
  return ref;
}

HistogramFamily& Registry::histogram(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  HANSA_CHECK(!bounds.empty());
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    HANSA_CHECK(std::isfinite(bounds[i]));
    HANSA_CHECK(i == 0 || bounds[i] > bounds[i - 1]);
  }
  for (const auto& l : label_names) {
    HANSA_CHECK(l != "le");
  }
  std::lock_guard lock(impl_->mu);
  if (auto* e = impl_->find(name, "histogram", label_names)) {
    auto& h = static_cast<HistogramFamily&>(*e->family);
    HANSA_CHECK(h.bounds() == bounds);
    return h;
  }
  auto f = std::unique_ptr<HistogramFamily>(new HistogramFamily(
      std::string(name), std::string(help), label_names, limits_, std::move(bounds)));
  HistogramFamily& ref = *f;
  impl_->add(std::string(name), {f.get(), nullptr, "histogram", std::move(label_names)});
  impl_->families.push_back(std::move(f));
  return ref;
}

void Registry::callback_gauge(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names,
                              std::function<std::vector<Sample>()> fn) {
  std::lock_guard lock(impl_->mu);
  if (auto* e = impl_->find(name, "callback", label_names)) {
    e->callback->fn = std::move(fn);
    return;
  }
  auto cb = std::make_unique<CallbackFamily>(
      CallbackFamily{std::string(name), std::string(help), label_names, std::move(fn)});
  impl_->add(std::string(name), {nullptr, cb.get(), "callback", std::move(label_names)});
  impl_->callbacks.push_back(std::move(cb));
}

std::string Registry::render() const {
  std::vector<Impl::Entry> entries;
  {
    std::lock_guard lock(impl_->mu);
    entries = impl_->order;
  }
  std::string out;
  for (const auto& e : entries) {
    if (e.family != nullptr) {
      e.family->render(out);
      continue;
    }
    const CallbackFamily& cb = *e.callback;
    std::vector<Sample> samples;
    try {
      samples = cb.fn ? cb.fn() : std::vector<Sample>{};
    } catch (...) {
      samples.clear();  // a failing callback renders no samples rather than breaking the scrape
    }
    out += "# HELP ";
    out += cb.name;
    out += ' ';
    out += escape_help(cb.help);
    out += "\n# TYPE ";
    out += cb.name;
    out += " gauge\n";
    std::size_t n = 0;
    for (auto& s : samples) {
      if (n++ >= limits_.max_series_per_family) {
        break;
      }
      if (s.label_values.size() != cb.label_names.size()) {
        continue;  // a malformed sample is skipped, not rendered as a broken line
      }
      for (auto& v : s.label_values) {
        truncate_utf8(v, limits_.max_label_value_bytes);
      }
      out += cb.name;
      out += label_text(cb.label_names, s.label_values);
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace hansa::metrics
