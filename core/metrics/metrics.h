#pragma once

// Metrics registry and the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Written here because
// prometheus-cpp is not packaged in Debian 12.
//
// Usage: create the families once at start-up, resolve each label set once to a handle
// (Counter, Gauge, Histogram) and keep the handle; updating a handle is one atomic operation.
//
//   auto& requests = registry.counter("hansa_requests_total", "Handled calls", {"service"});
//   metrics::Counter c = requests.with({"GOV/1234/get"});   // cache this
//   c.inc();
//
// Threading: Registry and the families are thread-safe (families: guarded by a mutex taken only
// when a label set is resolved and when rendering); handles are cheap values, share freely; the
// Registry must outlive every family reference and handle.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hansa::metrics {

// Bounds on what the registry holds. A label set beyond max_series_per_family is counted in the
// family's overflow series (every label value = kOverflowLabelValue) instead of a new series.
struct RegistryLimits {
  std::size_t max_series_per_family = 2000;
  // Longer label values are truncated (on a UTF-8 boundary) before lookup.
  std::size_t max_label_value_bytes = 256;
};

// Label value of the series that collects label sets above the cardinality limit.
inline constexpr std::string_view kOverflowLabelValue = "__overflow__";

namespace detail {
struct Series;
}

// A monotonically increasing value. inc() with a negative or NaN amount is ignored.
class Counter final {
 public:
  Counter() = default;  // a no-op handle
  // Adds `amount` (lock-free).
  void inc(double amount = 1.0) const noexcept;
  // Current value.
  [[nodiscard]] double value() const noexcept;

 private:
  friend class CounterFamily;
  explicit Counter(detail::Series* s) noexcept : s_(s) {}
  detail::Series* s_ = nullptr;
};

// A value that goes up and down.
class Gauge final {
 public:
  Gauge() = default;  // a no-op handle
  void set(double v) const noexcept;
  void inc(double amount = 1.0) const noexcept;
  void dec(double amount = 1.0) const noexcept;
  [[nodiscard]] double value() const noexcept;

 private:
  friend class GaugeFamily;
  explicit Gauge(detail::Series* s) noexcept : s_(s) {}
  detail::Series* s_ = nullptr;
};

// Observations counted into cumulative buckets with their sum and count.
class Histogram final {
 public:
  Histogram() = default;  // a no-op handle
  // Records one observation (lock-free). NaN is ignored.
  void observe(double v) const noexcept;
  [[nodiscard]] std::uint64_t count() const noexcept;
  [[nodiscard]] double sum() const noexcept;

 private:
  friend class HistogramFamily;
  Histogram(detail::Series* s, const std::vector<double>* bounds) noexcept
      : s_(s), bounds_(bounds) {}
  detail::Series* s_ = nullptr;
  const std::vector<double>* bounds_ = nullptr;
};

// Common part of a metric family: name, help, label names and the series by label values.
class Family {
 public:
  virtual ~Family();
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  // Number of label sets that went to the overflow series.
  [[nodiscard]] std::uint64_t overflowed() const noexcept;
  // Number of distinct series (including the overflow series once used).
  [[nodiscard]] std::size_t series_count() const;
  // Appends this family's exposition text to `out`.
  virtual void render(std::string& out) const = 0;

 protected:
  enum class Kind { kCounter, kGauge, kHistogram };
  Family(Kind kind, std::string name, std::string help, std::vector<std::string> label_names,
         const RegistryLimits& limits, std::size_t slots);
  // Finds or creates the series for `label_values` (wrong count of values is a bug: aborts).
  detail::Series* series_for(std::vector<std::string> label_values);
  void render_header(std::string& out, std::string_view type) const;
  // Calls fn(label text "{a=\"x\"}" or "", series) for each series in creation order.
  void for_each(const std::function<void(const std::string&, const detail::Series&)>& fn) const;
  [[nodiscard]] const std::vector<std::string>& label_names() const noexcept {
    return label_names_;
  }

 private:
  friend class Registry;
  struct State;
  Kind kind_;
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  RegistryLimits limits_;
  std::size_t slots_;
  std::unique_ptr<State> state_;
};

class CounterFamily final : public Family {
 public:
  // The handle for one label set; values in the order of the family's label names.
  [[nodiscard]] Counter with(std::vector<std::string> label_values);
  void render(std::string& out) const override;

 private:
  friend class Registry;
  using Family::Family;
};

class GaugeFamily final : public Family {
 public:
  [[nodiscard]] Gauge with(std::vector<std::string> label_values);
  void render(std::string& out) const override;

 private:
  friend class Registry;
  using Family::Family;
};

class HistogramFamily final : public Family {
 public:
  [[nodiscard]] Histogram with(std::vector<std::string> label_values);
  void render(std::string& out) const override;
  [[nodiscard]] const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  friend class Registry;
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  const RegistryLimits& limits, std::vector<double> bounds);
  std::vector<double> bounds_;
};

// One sample of a callback gauge: label values (in the family's label order) and the value.
struct Sample {
  std::vector<std::string> label_values;
  double value = 0;
};

// Default latency buckets in seconds (5 ms .. 60 s).
[[nodiscard]] std::vector<double> default_latency_buckets();

// Owns the metric families and renders them.
class Registry final {
 public:
  explicit Registry(RegistryLimits limits = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Returns the family `name`, creating it on first use. Asking again for the same name with the
  // same kind and label names returns the same family. An invalid metric or label name
  // ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without "__" prefix), or the same name with a different
  // kind or labels, is a bug: aborts. References stay valid for the Registry's lifetime.
  CounterFamily& counter(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string_view name, std::string_view help,
                     std::vector<std::string> label_names = {});
  // `bounds`: strictly increasing finite upper bounds; +Inf is added by the registry.
  HistogramFamily& histogram(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names,
                             std::vector<double> bounds = default_latency_buckets());

  // A gauge whose samples come from `fn`, called at every render (from the rendering thread;
  // `fn` must be thread-safe and quick). At most max_series_per_family samples are rendered.
  void callback_gauge(std::string_view name, std::string_view help,
                      std::vector<std::string> label_names,
                      std::function<std::vector<Sample>()> fn);

  // The whole registry in the text exposition format 0.0.4, families in registration order.
  [[nodiscard]] std::string render() const;

  [[nodiscard]] const RegistryLimits& limits() const noexcept { return limits_; }

 private:
  struct Impl;
  RegistryLimits limits_;
  std::unique_ptr<Impl> impl_;
};

// Content-Type of render()'s output.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Escaping rules of the text format: label values escape backslash, double quote and newline;
// HELP text escapes backslash and newline.
[[nodiscard]] std::string escape_label_value(std::string_view v);
[[nodiscard]] std::string escape_help(std::string_view v);
// A sample value as the format writes it ("+Inf", "-Inf", "NaN", or the shortest round-trip
// decimal form).
[[nodiscard]] std::string format_value(double v);
// Whether `name` is a valid metric name / label name.
[[nodiscard]] bool valid_metric_name(std::string_view name) noexcept;
[[nodiscard]] bool valid_label_name(std::string_view name) noexcept;

}  // namespace hansa::metrics
