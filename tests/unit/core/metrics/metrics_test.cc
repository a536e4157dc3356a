#include "core/metrics/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

namespace hansa::metrics {
namespace {

TEST(MetricsTest, CounterRendersHelpTypeAndLabels) {
  Registry r;
  auto& f = r.counter("hansa_requests_total", "Handled calls", {"client", "outcome"});
  auto c = f.with({"EE/GOV/1", "ok"});
  c.inc();
  c.inc(2);
  EXPECT_EQ(c.value(), 3);
  EXPECT_EQ(r.render(),
            "# HELP hansa_requests_total Handled calls\n"
            "# TYPE hansa_requests_total counter\n"
            "hansa_requests_total{client=\"EE/GOV/1\",outcome=\"ok\"} 3\n");
}

TEST(MetricsTest, CounterIgnoresNegativeAndNan) {
  Registry r;
  auto c = r.counter("c_total", "c").with({});
  c.inc(-5);
  c.inc(std::nan(""));
  c.inc(0.5);
  EXPECT_EQ(c.value(), 0.5);
}

TEST(MetricsTest, SameLabelSetIsSameSeries) {
  Registry r;
  auto& f = r.counter("c_total", "c", {"a"});
  f.with({"x"}).inc();
  f.with({"x"}).inc();
  EXPECT_EQ(f.with({"x"}).value(), 2);
  EXPECT_EQ(f.series_count(), 1u);
  // Asking for the family again returns the same one.
  EXPECT_EQ(&r.counter("c_total", "c", {"a"}), &f);
}

TEST(MetricsTest, GaugeSetIncDec) {
  Registry r;
  auto g = r.gauge("g", "a gauge").with({});
  g.set(10);
  g.inc(2.5);
  g.dec();
  EXPECT_EQ(g.value(), 11.5);
  EXPECT_NE(r.render().find("# TYPE g gauge\ng 11.5\n"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsSumCount) {
  Registry r;
  auto& f = r.histogram("lat_seconds", "latency", {"svc"}, {0.1, 1});
  auto h = f.with({"s"});
  h.observe(0.05);
  h.observe(0.1);  // upper bound inclusive
  h.observe(0.5);
  h.observe(7);
  h.observe(std::nan(""));  // ignored
  EXPECT_EQ(h.count(), 4u);
  EXPECT_DOUBLE_EQ(h.sum(), 7.65);
  std::string text = r.render();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{svc=\"s\",le=\"0.1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{svc=\"s\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{svc=\"s\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_sum{svc=\"s\"} 7.65\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count{svc=\"s\"} 4\n"), std::string::npos);
}

TEST(MetricsTest, HistogramWithoutLabels) {
  Registry r;
  r.histogram("h", "h", {}, {1}).with({}).observe(2);
  std::string text = r.render();
  EXPECT_NE(text.find("h_bucket{le=\"1\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("h_count 1\n"), std::string::npos);
}

TEST(MetricsTest, HostileLabelValuesAreEscaped) {
  Registry r;
  auto& f = r.counter("c_total", "help with \\ and\nnewline", {"client"});
  f.with({"a\"b\\c\nd} x=\"y"}).inc();
  std::string text = r.render();
  EXPECT_NE(text.find("# HELP c_total help with \\\\ and\\nnewline\n"), std::string::npos);
  EXPECT_NE(text.find("c_total{client=\"a\\\"b\\\\c\\nd} x=\\\"y\"} 1\n"), std::string::npos)
      << text;
  // Exactly 3 lines: no injected line.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

TEST(MetricsTest, LongLabelValuesAreTruncatedOnUtf8Boundary) {
  RegistryLimits lim;
  lim.max_label_value_bytes = 4;
  Registry r(lim);
  auto& f = r.counter("c_total", "c", {"a"});
  f.with({"abc\xC3\xA4xyz"}).inc();  // "abcä..." : cutting at 4 would split ä
  EXPECT_NE(r.render().find("c_total{a=\"abc\"} 1\n"), std::string::npos) << r.render();
  // Long values differing only after the cut share one series.
  f.with({"abcdEFG"}).inc();
  f.with({"abcdXYZ"}).inc();
  EXPECT_EQ(f.series_count(), 2u);
}

TEST(MetricsTest, CardinalityLimitGoesToOverflowSeries) {
  RegistryLimits lim;
  lim.max_series_per_family = 3;
  Registry r(lim);
  auto& f = r.counter("c_total", "c", {"client"});
  for (int i = 0; i < 1000; ++i) {
    f.with({"client" + std::to_string(i)}).inc();
  }
  EXPECT_EQ(f.series_count(), 4u);  // 3 + overflow
  EXPECT_EQ(f.overflowed(), 997u);
  std::string text = r.render();
  EXPECT_NE(text.find("c_total{client=\"__overflow__\"} 997\n"), std::string::npos) << text;
  // Existing series still resolve to themselves.
  f.with({"client0"}).inc();
  EXPECT_EQ(f.with({"client0"}).value(), 2);
}

TEST(MetricsTest, CallbackGaugeEvaluatedAtScrape) {
  Registry r;
  int calls = 0;
  r.callback_gauge("conf_age_seconds", "age", {"instance"}, [&] {
    ++calls;
    return std::vector<Sample>{{{"EE"}, 12.5}, {{"bad", "arity"}, 1}, {{"FI"}, 3}};
  });
  EXPECT_EQ(calls, 0);
  std::string text = r.render();
  EXPECT_EQ(calls, 1);
  EXPECT_NE(text.find("conf_age_seconds{instance=\"EE\"} 12.5\n"), std::string::npos);
  EXPECT_NE(text.find("conf_age_seconds{instance=\"FI\"} 3\n"), std::string::npos);
  EXPECT_EQ(text.find("arity"), std::string::npos);  // malformed sample skipped
}

TEST(MetricsTest, CallbackGaugeThatThrowsRendersNoSamples) {
  Registry r;
  r.callback_gauge("x", "x", {}, []() -> std::vector<Sample> { throw std::runtime_error("no"); });
  EXPECT_EQ(r.render(), "# HELP x x\n# TYPE x gauge\n");
}

TEST(MetricsTest, CallbackGaugeSampleCountIsCapped) {
  RegistryLimits lim;
  lim.max_series_per_family = 2;
  Registry r(lim);
  r.callback_gauge("x", "x", {"i"}, [] {
    std::vector<Sample> s;
    for (int i = 0; i < 100; ++i) {
      s.push_back({{std::to_string(i)}, 1});
    }
    return s;
  });
  std::string text = r.render();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
}

TEST(MetricsTest, FormatValue) {
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(format_value(1e20), "1e+20");
}

TEST(MetricsTest, NameValidation) {
  EXPECT_TRUE(valid_metric_name("hansa_x:y_total"));
  EXPECT_FALSE(valid_metric_name("1abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("client"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

TEST(MetricsDeathTest, InvalidNamesAndMismatchesAbort) {
  Registry r;
  EXPECT_DEATH(r.counter("bad-name", "x"), "");
  EXPECT_DEATH(r.counter("ok", "x", {"__bad"}), "");
  r.counter("same", "x", {"a"});
  EXPECT_DEATH(r.gauge("same", "x", {"a"}), "");
  EXPECT_DEATH(r.counter("same", "x", {"b"}), "");
  EXPECT_DEATH(r.histogram("h", "x", {}, {2, 1}), "");
  EXPECT_DEATH(r.histogram("h", "x", {"le"}, {1}), "");
  auto& f = r.counter("two", "x", {"a", "b"});
  EXPECT_DEATH((void)f.with({"only-one"}), "");
}

TEST(MetricsTest, DefaultHandlesAreNoOps) {
  Counter c;
  Gauge g;
  Histogram h;
  c.inc();
  g.set(3);
  h.observe(1);
  EXPECT_EQ(c.value(), 0);
  EXPECT_EQ(g.value(), 0);
  EXPECT_EQ(h.count(), 0u);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& cf = r.counter("c_total", "c", {"t"});
  auto& hf = r.histogram("h", "h", {}, {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto c = cf.with({t % 2 ? "odd" : "even"});
      auto h = hf.with({});
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(i % 2 ? 1.0 : 0.25);
        if (i % 1000 == 0) {
          (void)r.render();
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(cf.with({"odd"}).value() + cf.with({"even"}).value(), 40000);
  EXPECT_EQ(hf.with({}).count(), 40000u);
  EXPECT_DOUBLE_EQ(hf.with({}).sum(), 20000 * 1.0 + 20000 * 0.25);
}

}  // namespace
}  // namespace hansa::metrics
