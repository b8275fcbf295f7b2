-- audit_trim.lua: removes the audit log's entries older than the time kept
-- (schaltstelle/audit_days), oldest first; the audit trimmer runs it every 10 s
-- (schalt_server.c). KEYS[1] is the log, ARGV[1] the oldest time kept (RFC 3339).
-- At most TRIM_MAX entries go in one run, so that it never holds Redis up for long.
-- Returns how many went.
local TRIM_MAX = 10000
local PAGE = 500
local removed = 0
while removed < TRIM_MAX do
    local page = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', PAGE)
    if #page == 0 then
        break
    end
    local old = {}
    for _, item in ipairs(page) do
        local fields = item[2]
        local time = ''
        for index = 1, #fields, 2 do
            if fields[index] == 'time' then
                time = fields[index + 1]
            end
        end
        if time >= ARGV[1] then
            break
        end
        old[#old + 1] = item[1]
    end
    if #old == 0 then
        break
    end
    removed = removed + redis.call('XDEL', KEYS[1], unpack(old))
    if #old < #page then
        break
    end
end
return removed
