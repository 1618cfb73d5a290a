-- wrk script: POSTs a distinct webhook per request by filling the template's placeholders with a counter
-- unique across threads, behind a prefix unique to the run (args[2]), and prints the run's figures as one JSON line.
local templates = {}
local counter = 0
local thread_id = 0
local run_prefix = ""
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(templates, line) end
  end
  thread_id = tonumber(wrk.thread:get("thread_id"))
  run_prefix = args[2] or tostring(os.time())
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local seed = thread_id * 100000000 + counter
  local member = "3" .. run_prefix .. string.format("%010d", seed)
  local template = templates[(counter % #templates) + 1]
  local body = template:gsub("__MEMBER__", member):gsub("__VISIT__", tostring(1751500000000 + seed))
  return wrk.format("POST", nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
