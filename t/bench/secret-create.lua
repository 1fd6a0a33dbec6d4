-- wrk script for the secret-create target (t/bench/run.sh): every request
-- POSTs a new secret into one project, under a key no other request uses.
--   BENCH_PROJECT  project id                            (required)
--   BENCH_ORIGIN   Origin header (cookie-carrying writes need one)
--   BENCH_RUN      tag of this wrk run, part of every key (unique per run)
--   BENCH_ENV      environment the value goes to         (development)
-- plus BENCH_COOKIE and the done() line of bench.lua.
-- Key: BENCH_C_<run>_<thread>_<counter>; value: 32 bytes, also unique.
local here = os.getenv("BENCH_LUA_DIR") or debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
dofile(here .. "/bench.lua")

local project = os.getenv("BENCH_PROJECT") or error("BENCH_PROJECT is not set")
local run = (os.getenv("BENCH_RUN") or "0"):gsub("[^A-Za-z0-9]", "")
local env = os.getenv("BENCH_ENV") or "development"
local origin = os.getenv("BENCH_ORIGIN")
if origin ~= nil and origin ~= "" then
	wrk.headers["Origin"] = origin
end
wrk.method = "POST"
wrk.path = "/v1/projects/" .. project .. "/secrets"
wrk.headers["Content-Type"] = "application/json"

-- setup() runs in the main Lua state, once per thread: number the threads.
local nthreads = 0
function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
end

local counter = 0
function request()
	counter = counter + 1
	local key = string.format("BENCH_C_%s_%d_%d", run, tid or 0, counter)
	local value = string.format("%-32s", string.format("v%s.%d.%d", run, tid or 0, counter)):gsub(" ", "x")
	return wrk.format(nil, nil, nil,
		string.format('{"key":"%s","values":{"%s":"%s"}}', key, env, value))
end
