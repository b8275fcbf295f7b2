-- audit_list.lua: the built-in audit.list command of every daemon (schalt_server.c).
--
-- KEYS[1] is the request key in the {audit} tag, so the log is schalt.prefix .. 'log'.
-- The body (request/audit.list.json) may hold since (RFC 3339), who (a key's or a web
-- user's name), object (an id) and limit. Entries come newest first, at most limit of
-- them. The search reads at most SCAN_MAX entries, so that it never holds Redis up for
-- long; complete = false says that older entries were not read (narrow it with since).
local SCAN_MAX = 20000
local PAGE = 500
local body = schalt.body()
local log = schalt.prefix .. 'log'
local limit = body.limit or 100
local found = {}
local scanned = 0
local complete = true
local cursor = '+'
local older = false
while #found < limit and not older do
    if scanned >= SCAN_MAX then
        complete = false
        break
    end
    local page = redis.call('XREVRANGE', log, cursor, '-', 'COUNT', PAGE)
    if #page == 0 then
        break
    end
    for _, item in ipairs(page) do
        local entry = schalt.hash(item[2])
        if body.since and (entry.time or '') < body.since then
            older = true
            break
        end
        if (not body.who or entry.who == body.who or entry.user == body.who)
            and (not body.object or entry.object == body.object) then
            entry.status = tonumber(entry.status)
            found[#found + 1] = entry
            if #found >= limit then
                break
            end
        end
    end
    scanned = scanned + #page
    cursor = '(' .. page[#page][1]
end
return {200, schalt.encode({entries = found, complete = complete}, {'entries'})}
