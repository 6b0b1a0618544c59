//! The daemon's Prometheus metrics, written in the text exposition format. Counters are
//! atomics; the per-stage latencies are summaries (count and sum), enough for rates and
//! means in Prometheus. Camera and store gauges are filled in at scrape time by the caller.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::search::StageTimings;

#[derive(Default)]
pub struct Metrics {
    /// (route, status) → count.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    searches_text: AtomicU64,
    searches_similar: AtomicU64,
    /// Stage → (count, sum of seconds as f64 bits).
    stage_count: AtomicU64,
    stage_sums_micros: [AtomicU64; 4],
}

impl Metrics {
    pub fn record_request(&self, route: &str, status: u16) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((route.to_string(), status)).or_default() += 1;
        }
    }

    pub fn record_search(&self, similar: bool, timings: &StageTimings) {
        if similar {
            self.searches_similar.fetch_add(1, Ordering::Relaxed);
        } else {
            self.searches_text.fetch_add(1, Ordering::Relaxed);
        }
        self.stage_count.fetch_add(1, Ordering::Relaxed);
        let stages = [
            timings.encode,
            timings.search,
            timings.rerank,
            timings.total,
        ];
        for (sum, ms) in self.stage_sums_micros.iter().zip(stages) {
            sum.fetch_add((ms * 1000.0).max(0.0) as u64, Ordering::Relaxed);
        }
    }

    /// The exposition text; `extra` is appended (store and camera gauges).
    pub fn render(&self, extra: &str) -> String {
        let mut out = String::new();
        out.push_str("# HELP lookout_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE lookout_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "lookout_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                    escape_label(route)
                );
            }
        }
        out.push_str("# HELP lookout_searches_total Searches by kind.\n");
        out.push_str("# TYPE lookout_searches_total counter\n");
        let _ = writeln!(
            out,
            "lookout_searches_total{{kind=\"text\"}} {}",
            self.searches_text.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "lookout_searches_total{{kind=\"similar\"}} {}",
            self.searches_similar.load(Ordering::Relaxed)
        );
        out.push_str("# HELP lookout_search_stage_seconds Time spent per search stage.\n");
        out.push_str("# TYPE lookout_search_stage_seconds summary\n");
        let count = self.stage_count.load(Ordering::Relaxed);
        for (stage, sum) in ["encode", "search", "rerank", "total"]
            .iter()
            .zip(&self.stage_sums_micros)
        {
            let seconds = sum.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "lookout_search_stage_seconds_sum{{stage=\"{stage}\"}} {seconds}"
            );
            let _ = writeln!(
                out,
                "lookout_search_stage_seconds_count{{stage=\"{stage}\"}} {count}"
            );
        }
        out.push_str(extra);
        out
    }
}

/// Escapes a label value (backslash, quote, newline) for the exposition format.
pub fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_counts_requests_and_stages() {
        let metrics = Metrics::default();
        metrics.record_request("/api/search", 200);
        metrics.record_request("/api/search", 200);
        metrics.record_request("/api/search", 400);
        metrics.record_search(
            false,
            &StageTimings {
                encode: 2.0,
                search: 1.0,
                rerank: 0.5,
                total: 3.5,
            },
        );
        let text = metrics.render("lookout_store_points 7\n");
        assert!(
            text.contains("lookout_http_requests_total{route=\"/api/search\",status=\"200\"} 2")
        );
        assert!(
            text.contains("lookout_http_requests_total{route=\"/api/search\",status=\"400\"} 1")
        );
        assert!(text.contains("lookout_searches_total{kind=\"text\"} 1"));
        assert!(text.contains("lookout_search_stage_seconds_sum{stage=\"encode\"} 0.002"));
        assert!(text.ends_with("lookout_store_points 7\n"));
        assert_eq!(escape_label("a\"b"), "a\\\"b");
    }
}
