-- wrk script for every bench run (t/bench/run.sh).
--   BENCH_PATH    request path (default: the URL's path)
--   BENCH_COOKIE  Cookie header to send (the signed-in session for /v1/me)
-- done() prints one machine-readable line that run.sh parses:
--   BENCH rps=<req/s> p50=<us> p99=<us> requests=<n> non2xx=<n> errors=<n>
local path = os.getenv("BENCH_PATH")
if path ~= nil and path ~= "" then
	wrk.path = path
end
local cookie = os.getenv("BENCH_COOKIE")
if cookie ~= nil and cookie ~= "" then
	wrk.headers["Cookie"] = cookie
end
wrk.headers["Accept"] = "application/json"

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local e = summary.errors
	io.write(string.format(
		"BENCH rps=%.1f p50=%d p99=%d requests=%d non2xx=%d errors=%d\n",
		summary.requests / secs,
		latency:percentile(50.0), latency:percentile(99.0),
		summary.requests, e.status,
		e.connect + e.read + e.write + e.timeout))
end
