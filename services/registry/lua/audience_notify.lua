-- audience.notify (from the scheduler's timeline, through its outbox): the
-- body's session, revision, offset and due time (RFC 3339, UTC), and its
-- local day (day_start, day_end: UTC seconds). Decided now, in this one
-- step: everyone whose registration for the session is confirmed at this
-- moment and was made by the due time gets the reminder (session-reminder);
-- the waitlisted, those who cancelled and those who registered after the
-- due time do not. A person who holds several sessions of the event on that
-- day gets one reminder listing them, and no other for the same offset.
-- Nothing is sent for a session that has begun, is cancelled, or has
-- changed since the reminder was planned (the scheduler plans anew then).
local seen = schalt.replay()
if seen then return seen end
local body = schalt.body()
local now = tonumber(ARGV[3])
local session = schalt.load(registry.session_key(body.session))
local function skip(reason)
    return schalt.answer(200, cjson.encode({reminded = 0, skipped = reason}))
end
if not session then return skip('session unknown') end
if tonumber(session.revision) ~= body.revision then return skip('session changed since') end
if session.status ~= 'scheduled' or session.event_status == 'cancelled' then
    return skip('session cancelled')
end
if tonumber(session.start_ts) <= now then return skip('session has begun') end

local mark = 'reminded_' .. body.offset
local sessions = {[session.id] = session}
local reminded = 0
for _, id in ipairs(redis.call('ZRANGE', registry.session_list_key(session.id, 'confirmed'), 0, -1)) do
    local key = registry.registration_key(id)
    local registration = schalt.load(key)
    if registration and registration.status == 'confirmed' and registration.created <= body.due
        and not registration[mark] then
        -- The person's other seats that day, not yet reminded at this offset
        local items = {}
        for _, other_id in ipairs(redis.call('SMEMBERS', registry.person_key(string.lower(registration.email)))) do
            local other = other_id == id and registration or schalt.load(registry.registration_key(other_id))
            if other and other.status == 'confirmed' and not other[mark] then
                local other_session = sessions[other.session]
                if other_session == nil then
                    other_session = schalt.load(registry.session_key(other.session)) or false
                    sessions[other.session] = other_session
                end
                local start_ts = other_session and tonumber(other_session.start_ts)
                if start_ts and start_ts >= body.day_start and start_ts < body.day_end
                    and start_ts > now and other_session.status == 'scheduled' then
                    items[#items + 1] = {registration = other, session = other_session,
                        start_ts = start_ts}
                end
            end
        end
        table.sort(items, function(a, b) return a.start_ts < b.start_ts end)
        local list, links = nil, {}
        if #items > 1 then
            list = {}
            for index, item in ipairs(items) do
                list[index] = {title = item.session.title, room = item.session.room,
                    start = item.session.start, ['end'] = item.session['end'], status = 'confirmed',
                    code = item.registration.code ~= '' and item.registration.code or nil,
                    link = 'cancel_' .. index}
                links[list[index].link] = registry.link(item.registration, item.session)
            end
        end
        for _, item in ipairs(items) do
            redis.call('HSET', registry.registration_key(item.registration.id), mark, body.due)
            item.registration[mark] = body.due
        end
        registry.notify(registry.notice_id(id, 'rem-' .. body.offset .. '-r' .. body.revision),
            'session-reminder', registration, session,
            {code = (not list and registration.code ~= '') and registration.code or nil,
             several = list and '1' or nil, single = not list and '1' or nil},
            list, list and links or nil, items)
        reminded = reminded + 1
    end
end
return schalt.answer(200, cjson.encode({reminded = reminded}))
