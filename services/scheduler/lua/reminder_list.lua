-- reminder.list: the reminders planned, by due time: all, those of the
-- body's session, or those due before due_before (ARGV[5]: UTC seconds, or
-- ''); at most limit (1000). With the timeline's size and how many sessions
-- wait to be planned.
local body = schalt.body()
local limit = body.limit or 1000
local before = ARGV[5] ~= '' and ('(' .. ARGV[5]) or '+inf'
local ids
if body.session then
    local session = schalt.load(scheduler.session_key(body.session))
    if not session then
        return schalt.error(404, 'not_found', '/session', 'no session ' .. body.session)
    end
    ids = {}
    for _, id in ipairs(scheduler.planned(session)) do
        local due = redis.call('ZSCORE', scheduler.timeline_key, id)
        if due then ids[#ids + 1] = {id, tonumber(due)} end
    end
    table.sort(ids, function(a, b) return a[2] < b[2] end)
else
    ids = {}
    local found = redis.call('ZRANGEBYSCORE', scheduler.timeline_key, '-inf', before,
        'WITHSCORES', 'LIMIT', 0, limit)
    for index = 1, #found, 2 do ids[#ids + 1] = {found[index], tonumber(found[index + 1])} end
end
local list, sessions = {}, {}
for _, item in ipairs(ids) do
    if #list >= limit then break end
    local id, due = item[1], item[2]
    if ARGV[5] == '' or due < tonumber(ARGV[5]) then
        local session_id, offset, revision = string.match(id, '^rem%-(ses%-[^-]+%-[^-]+)%-([0-9]+[dhm])%-r([0-9]+)$')
        local session = sessions[session_id]
        if session == nil then
            session = schalt.load(scheduler.session_key(session_id)) or false
            sessions[session_id] = session
        end
        list[#list + 1] = {id = id, session = session_id, offset = offset,
            revision = tonumber(revision), due = schalt.instant(due),
            title = session and session.title or nil, start = session and session.start or nil}
    end
end
return {200, schalt.encode({reminders = list,
    planned = redis.call('ZCARD', scheduler.timeline_key),
    to_plan = redis.call('HLEN', scheduler.plan_key)}, {'reminders'})}
