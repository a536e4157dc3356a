#!/usr/bin/env python3
"""bench/report.py on hand-made raw results: the cells' figures, the hansa/baseline ratios and
the verdict on each target of issue 9, including the cases just either side of each limit.

Usage: report_test.py PATH/TO/bench/report.py
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

REPORT = None


def cell(setup, conc, rps, p99_ms=10.0, errors=0, rss_mb=None, cpu_s=1.0, proto="rest",
         size=1024):
    """One line of bench/run's results TSV: `rps` over 10 s, `cpu_s` of CPU in 100 Hz ticks."""
    rss = ";".join(f"{k}={int(v * 1024)}" for k, v in (rss_mb or {}).items())
    return "\t".join(str(x) for x in (
        setup, proto, size, conc, int(rps * 10), 10_000_000, 1000, int(p99_ms * 1000), 50_000,
        int(cpu_s * 100), 100, errors, rss, "", "")) + "\n"


def micro(name, items_per_second, cpu_us):
    return {"name": name, "run_type": "iteration", "iterations": 1, "real_time": cpu_us,
            "cpu_time": cpu_us, "time_unit": "us", "items_per_second": items_per_second}


class ReportTest(unittest.TestCase):
    def render(self, lines, benchmarks=None, onecore=None, pg_busy="", wal_created="",
               steady=None, steady_busy=""):
        with tempfile.TemporaryDirectory() as d:
            results = os.path.join(d, "results.tsv")
            with open(results, "w") as f:
                f.writelines(lines)
            args = [sys.executable, REPORT, "--results", results, "--out",
                    os.path.join(d, "out.md"), "--duration", "10", "--concurrency", "16 64",
                    "--sizes", "1024", "--setups", "baseline hansa-sqlite hansa-pg",
                    "--protocols", "rest", "--started", "2026-01-01T00:00:00Z",
                    "--onecore-pg-busy", pg_busy, "--onecore-wal-created", wal_created,
                    "--onecore-steady-pg-busy", steady_busy]
            for flag, data in (("--micro", benchmarks), ("--micro-onecore", onecore),
                               ("--micro-onecore-steady", steady)):
                if data is not None:
                    path = os.path.join(d, flag[2:] + ".json")
                    with open(path, "w") as f:
                        json.dump({"benchmarks": data}, f)
                    args += [flag, path]
            subprocess.run(args, check=True)
            with open(os.path.join(d, "out.md")) as f:
                return f.read()

    @staticmethod
    def target_rows(md, setup=None):
        rows = md.split("## Targets (issue 9)")[1].split("\n## ")[0].splitlines()
        return [r for r in rows if r.startswith("| ") and (setup is None or f"| {setup} |" in r)]

    def target_row(self, md, needle, setup=None):
        """The one row of the targets table that mentions `needle` (for `setup`, when given)."""
        rows = [r for r in self.target_rows(md, setup) if needle in r]
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def assertVerdict(self, row, verdict):
        self.assertTrue(row.endswith(f"| {verdict} |"), row)

    def assertTarget(self, md, needle, setup, figure, verdict):
        """The target row for `needle` and `setup` shows `figure` and ends with `verdict`."""
        row = self.target_row(md, needle, setup)
        self.assertIn(figure, row)
        self.assertVerdict(row, verdict)

    def test_cells_ratios_and_cpu(self):
        md = self.render([
            cell("baseline", 64, 10_000, cpu_s=1.0),
            cell("hansa-sqlite", 64, 3_500, cpu_s=14.0, rss_mb={"node-a": 70, "node-b": 66}),
        ])
        # req/s, p99, CPU seconds per 1000 calls (14 s over 35,000 calls), RSS and the ratio.
        self.assertIn("| 64 | hansa-sqlite | 3,500 | 1.00 | 10.00 | 50.00 | 0.400 | "
                      "node-a 70, node-b 66 | 0 | 0.35 |", md)
        self.assertIn("| 64 | baseline | 10,000 |", md)
        self.assertIn("| 16 | hansa-pg | not available: no result |", md)

    def test_throughput_target_either_side_of_three_tenths(self):
        md = self.render([
            cell("baseline", 64, 10_000),
            cell("hansa-sqlite", 64, 3_000),
            cell("hansa-pg", 64, 2_990),
        ])
        self.assertTarget(md, "REST 1 KB c=64", "hansa-sqlite",
                          "0.30 x (3,000 vs 10,000), 0 errors", "met")
        self.assertVerdict(self.target_row(md, "REST 1 KB c=64", "hansa-pg"), "MISSED")

    def test_errors_miss_the_throughput_target(self):
        md = self.render([cell("baseline", 64, 10_000), cell("hansa-sqlite", 64, 9_000, errors=1)])
        self.assertTarget(md, "REST 1 KB c=64", "hansa-sqlite", "1 errors", "MISSED")

    def test_p99_target_either_side_of_three_times(self):
        md = self.render([
            cell("baseline", 16, 10_000, p99_ms=4.0),
            cell("hansa-sqlite", 16, 1_000, p99_ms=12.0),
            cell("hansa-pg", 16, 1_000, p99_ms=12.4),
        ])
        self.assertTarget(md, "p99", "hansa-sqlite", "3.00 x (12.00 vs 4.00 ms)", "met")
        self.assertTarget(md, "p99", "hansa-pg", "3.10 x", "MISSED")

    def test_rss_target_takes_the_largest_node(self):
        md = self.render([
            cell("hansa-sqlite", 64, 1_000, rss_mb={"node-a": 150, "node-b": 205}),
            cell("hansa-pg", 64, 1_000, rss_mb={"node-a": 199, "node-b": 120}),
        ])
        self.assertTarget(md, "RSS", "hansa-sqlite", "205 MB (largest)", "MISSED")
        self.assertTarget(md, "RSS", "hansa-pg", "199 MB (largest)", "met")

    def test_missing_cells_are_not_measured(self):
        md = self.render([cell("hansa-sqlite", 64, 1_000)])  # no baseline ran
        for needle in ("REST 1 KB c=64", "p99"):
            self.assertIn("not measured", self.target_row(md, needle, "hansa-sqlite"))
        self.assertIn("not measured", self.target_row(md, "message log on one core"))

    def test_message_log_verdict_is_on_one_core_only(self):
        group_commit = "BM_MessageLogGroupCommitPostgres/writers:{}/real_time/threads:{}"
        both = [micro(group_commit.format(1, 256), 40_000, 20),
                micro(group_commit.format(2, 64), 15_000, 30),
                micro(group_commit.format(2, 256), 23_680, 35)]
        md = self.render([], benchmarks=both,
                         onecore=[micro(group_commit.format(2, 256), 19_999, 31.8)], pg_busy="0.69")
        reference = self.target_row(md, "both cores")
        # The best two-writer figure, without a verdict; the one-writer benchmark is not the node's.
        self.assertIn("23,680 records/s", reference)
        self.assertNotIn("| met |", reference)
        one_core = self.target_row(md, "message log on one core")
        self.assertIn("19,999 records/s; the node's side 31.8 us of CPU per record", one_core)
        self.assertIn("PostgreSQL's CPU 69% busy", one_core)
        self.assertVerdict(one_core, "MISSED")
        md = self.render([], benchmarks=both,
                         onecore=[micro(group_commit.format(2, 256), 20_000, 30.0)])
        self.assertVerdict(self.target_row(md, "message log on one core"), "met")

    def test_message_log_on_one_core_is_judged_by_the_median_run(self):
        name = "BM_MessageLogGroupCommitPostgres/writers:2/real_time/threads:256"

        def runs(*rates_and_cpu):
            out = [micro(name, rate, cpu) for rate, cpu in rates_and_cpu]
            # Google Benchmark's own aggregates follow the repetitions; they are not runs.
            out.append(dict(micro(name + "_mean", 99_999, 1.0), run_type="aggregate",
                            aggregate_name="mean"))
            return out

        md = self.render([], onecore=runs((23_000, 28.0), (17_500, 33.0), (19_000, 31.0)))
        one_core = self.target_row(md, "message log on one core")
        self.assertIn("19,000 records/s (median of 3 runs: 17,500 to 23,000); the node's side "
                      "31.0 us of CPU per record", one_core)
        self.assertVerdict(one_core, "MISSED")  # one run above 20,000 does not decide
        md = self.render([], onecore=runs((19_000, 31.0), (20_000, 30.0), (21_000, 29.0)))
        one_core = self.target_row(md, "message log on one core")
        self.assertIn("20,000 records/s (median of 3 runs: 19,000 to 21,000)", one_core)
        self.assertVerdict(one_core, "met")
        self.assertNotIn("WAL segment", one_core)

    def test_message_log_on_one_core_names_the_wal_segments_created(self):
        name = "BM_MessageLogGroupCommitPostgres/writers:2/real_time/threads:256"
        onecore = [micro(name, 20_500, 30.0)]
        one_core = self.target_row(self.render([], onecore=onecore, pg_busy="0.81",
                                               wal_created="0"), "message log on one core")
        self.assertIn("PostgreSQL's CPU 81% busy; 0 WAL segments created during the runs",
                      one_core)
        one_core = self.target_row(self.render([], onecore=onecore, wal_created="1"),
                                   "message log on one core")
        self.assertIn("; 1 WAL segment created during the runs", one_core)
        self.assertVerdict(one_core, "met")

    def test_message_log_at_steady_size_is_a_reference_beside_the_growing_log(self):
        name = "BM_MessageLogGroupCommitPostgres/writers:2/real_time/threads:256"
        growing = [micro(name, 15_000, 35.0), micro(name, 16_000, 34.0), micro(name, 14_000, 36.0)]
        steady = [micro(name, 21_000, 30.0), micro(name, 20_500, 31.0), micro(name, 22_000, 29.0)]
        md = self.render([], onecore=growing, steady=steady, steady_busy="0.7")
        # The verdict stays on the growing log, however the steady-size runs do.
        target = self.target_row(md, "message log on one core: >= 20,000")
        self.assertIn("the log's tables growing | 15,000 records/s", target)
        self.assertVerdict(target, "MISSED")
        row = self.target_row(md, "a log at steady size")
        self.assertIn("21,000 records/s (median of 3 runs: 20,500 to 22,000); the node's side "
                      "30.0 us of CPU per record", row)
        self.assertIn("PostgreSQL's CPU 70% busy", row)
        self.assertVerdict(row, "reference only: the verdict is on the growing log")
        # Without steady-size runs there is no such row.
        md = self.render([], onecore=growing)
        self.assertEqual([r for r in self.target_rows(md) if "steady size" in r], [])

if __name__ == "__main__":
    REPORT = sys.argv.pop(1)
    unittest.main(verbosity=2)
