-- Appended to every scenario's script: one JSON line with the totals and latency percentiles.
-- Per-thread status counters (set by a response() callback, when the scenario has one) are summed.
local bench_threads = {}

function setup(thread)
  thread:set("id", #bench_threads + 1)
  table.insert(bench_threads, thread)
end

function done(summary, latency, requests)
  local created, other, exhausted, sent = 0, 0, 0, 0
  for _, thread in ipairs(bench_threads) do
    created = created + (thread:get("created") or 0)
    other = other + (thread:get("other") or 0)
    exhausted = exhausted + (thread:get("exhausted") or 0)
    sent = sent + (thread:get("sent") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"created":%d,"other_status":%d,"tokens_exhausted":%d,"sent":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    created, other, exhausted, sent))
end
