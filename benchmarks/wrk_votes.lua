-- wrk script for benchmarks/bench_server.py: one vote per prepared battle, each voted once.
--
--   BATTLE_IDS=ids.txt wrk -t1 -c8 -d120s -s benchmarks/wrk_votes.lua -H "Cookie: ..." URL
--
-- The battle ids (one per line) were all created with the voter cookie passed in -H. One wrk
-- thread (-t1) sends them. A connection that finds no battle left waits (delay) rather than
-- loading the server while the last votes are answered; should wrk still ask it for a
-- request, it sends a GET to the vote route, answered 405 (a vote never is), counted apart.
-- Once every battle has an answer the thread stops and says so on stderr; the benchmark
-- then interrupts wrk, whose done() prints one JSON line.

local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clock_id, timespec *time);
]])
local CLOCK_MONOTONIC = 1

-- wrk's own duration is always the whole -d: the span of the votes is timed here instead.
local function now_seconds()
  local time = ffi.new("timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, time)
  return tonumber(time.tv_sec) + tonumber(time.tv_nsec) * 1e-9
end

local threads = {}
local choices = { "a", "b", "tie" }

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  battle_ids = {}
  for id in io.lines(os.getenv("BATTLE_IDS")) do
    table.insert(battle_ids, id)
  end
  next_battle = 1
  voted, refused, idle, refused_status = 0, 0, 0, 0
  first_sent, last_answered = 0, 0
  -- wrk.format uses the headers it is given instead of -H's, not as well as them.
  vote_headers = { ["Content-Type"] = "application/json" }
  for name, value in pairs(wrk.headers) do
    vote_headers[name] = value
  end
  -- wrk calls request() once before any connection, only to check that it parses: that
  -- call must not use up a battle.
  check_call_pending = true
end

function delay()
  if next_battle <= #battle_ids then
    return 0
  end
  return 60000
end

function request()
  local id = battle_ids[next_battle]
  if check_call_pending then
    check_call_pending = false
    return wrk.format("POST", "/api/battles/" .. id .. "/vote", vote_headers, "{}")
  end
  if id == nil then
    return wrk.format("GET", "/api/battles/" .. battle_ids[1] .. "/vote")
  end
  if next_battle == 1 then
    first_sent = now_seconds()
  end
  next_battle = next_battle + 1
  local body = '{"choice":"' .. choices[(next_battle % #choices) + 1] .. '"}'
  return wrk.format("POST", "/api/battles/" .. id .. "/vote", vote_headers, body)
end

function response(status, headers, body)
  if status == 405 then
    idle = idle + 1
  elseif status >= 200 and status < 300 then
    voted = voted + 1
  else
    refused = refused + 1
    refused_status = status
  end
  if voted + refused == #battle_ids then
    last_answered = now_seconds()
    wrk.thread:stop()
    io.stderr:write("wrk_votes: every battle has an answer\n")
    io.stderr:flush()
  end
end

function done(summary, latency, requests)
  local thread = threads[1]
  io.write(string.format(
    '{"voted": %d, "refused": %d, "refused_status": %d, "idle": %d, "requests": %d, '
      .. '"seconds": %.6f, "socket_errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    thread:get("voted"), thread:get("refused"), thread:get("refused_status"),
    thread:get("idle"), summary.requests,
    thread:get("last_answered") - thread:get("first_sent"),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max
  ))
end
