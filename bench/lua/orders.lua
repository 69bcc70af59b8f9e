-- POST /api/orders/create/, each request with its own user's token (each user has a prepared cart).
-- TOKENS_FILE is substituted by bench/run.py. Threads take every n-th token so none is used twice.
local tokens = {}
local next_index = 1
created, other, exhausted, sent = 0, 0, 0, 0

function init(args)
  local all = {}
  for line in io.lines("TOKENS_FILE") do
    if line ~= "" then table.insert(all, line) end
  end
  local threads = tonumber(args[1] or "1")
  for i = id, #all, threads do table.insert(tokens, all[i]) end
end

function request()
  local token = tokens[next_index]
  if token == nil then
    exhausted = 1
    wrk.thread:stop()
    token = tokens[#tokens]
  end
  next_index = next_index + 1
  sent = sent + 1
  return wrk.format("POST", "/api/orders/create/",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, "{}")
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end
