-- wrk script for the secret-update target (t/bench/run.sh): every request
-- PATCHes one of a set of existing secrets with a new value, so every request
-- writes a new version. Each thread walks the whole set in turn, starting at
-- its own offset, so concurrent writes rarely hit the same secret.
--   BENCH_PROJECT     project id                           (required)
--   BENCH_SECRET_IDS  space-separated secret ids            (required)
--   BENCH_ORIGIN      Origin header (cookie-carrying writes need one)
--   BENCH_RUN         tag of this wrk run, part of every value
--   BENCH_ENV         environment written                  (development)
-- plus BENCH_COOKIE and the done() line of bench.lua.
local here = os.getenv("BENCH_LUA_DIR") or debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
dofile(here .. "/bench.lua")

local project = os.getenv("BENCH_PROJECT") or error("BENCH_PROJECT is not set")
local run = (os.getenv("BENCH_RUN") or "0"):gsub("[^A-Za-z0-9]", "")
local env = os.getenv("BENCH_ENV") or "development"
local origin = os.getenv("BENCH_ORIGIN")
if origin ~= nil and origin ~= "" then
	wrk.headers["Origin"] = origin
end
wrk.headers["Content-Type"] = "application/json"

local ids = {}
for id in (os.getenv("BENCH_SECRET_IDS") or ""):gmatch("%S+") do
	ids[#ids + 1] = id
end
if #ids == 0 then
	error("BENCH_SECRET_IDS is empty")
end
local base = "/v1/projects/" .. project .. "/secrets/"

local nthreads = 0
function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
end

local counter = 0
local offset = 0
function init(args)
	-- Spread the threads' starting points over the set (BENCH_THREADS: wrk -t).
	local t = tonumber(os.getenv("BENCH_THREADS") or "") or 1
	if t < 1 then t = 1 end
	offset = math.floor(((tid or 1) - 1) * #ids / t)
end

function request()
	local i = (offset + counter) % #ids + 1
	counter = counter + 1
	local value = string.format("%-32s", string.format("u%s.%d.%d", run, tid or 0, counter)):gsub(" ", "x")
	return wrk.format("PATCH", base .. ids[i], nil,
		string.format('{"values":{"%s":"%s"}}', env, value))
end
