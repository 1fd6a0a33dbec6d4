-- wrk script for the runtime targets (t/bench/run.sh) and their baseline:
-- every request is GET <path> with "Authorization: Bearer <key>", the keys
-- taken round-robin from a file, each wrk thread starting at its own offset
-- (so that the threads do not walk the keys in step).
--   BENCH_KEYS_FILE  environment keys, one a line        (required)
--   BENCH_THREADS    wrk -t, to spread the threads' offsets
--   BENCH_PATH       request path (default: the URL's path)
-- plus the done() line of bench.lua.
-- The requests are formatted once per thread in init(), so a request costs
-- wrk one table lookup whichever the number of keys (1 or 10,000): the
-- baseline runs this same script with the same keys.
local here = os.getenv("BENCH_LUA_DIR") or debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
dofile(here .. "/bench.lua")

local file = os.getenv("BENCH_KEYS_FILE") or error("BENCH_KEYS_FILE is not set")

local nthreads = 0
function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
end

local reqs = {}
local n = 0
local i = 0
function init(args)
	local f = io.open(file, "r") or error("cannot open " .. file)
	for key in f:lines() do
		key = key:gsub("%s+", "")
		if key ~= "" then
			local h = {}
			for k, v in pairs(wrk.headers) do h[k] = v end
			h["Authorization"] = "Bearer " .. key
			n = n + 1
			reqs[n] = wrk.format("GET", wrk.path, h)
		end
	end
	f:close()
	if n == 0 then
		error(file .. " holds no key")
	end
	local t = tonumber(os.getenv("BENCH_THREADS") or "") or 1
	if t < 1 then t = 1 end
	i = math.floor(((tid or 1) - 1) * n / t)
end

function request()
	i = i % n + 1
	return reqs[i]
end
