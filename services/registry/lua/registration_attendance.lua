-- registration.attendance (reads only): the body's session. Every
-- registration ever made for it, in arrival order, with what became of it,
-- and the counts: confirmed (holding a seat now), present (checked in),
-- cancelled (a seat given back; cancelled_late: after the deadline, by the
-- office), left (the waitlist), waitlisted, offered (a seat held for them),
-- declined and expired (offers), and no_shows (confirmed, not checked in)
-- once the session is over (null before).
local session_id = schalt.body().session
local session = schalt.load(registry.session_key(session_id))
if not session then
    return schalt.error(404, 'not_found', '/session', 'the registry knows no session ' .. session_id)
end
local over = tonumber(session.end_ts) <= tonumber(ARGV[3])
local counts = {confirmed = 0, present = 0, cancelled = 0, cancelled_late = 0, left = 0,
    waitlisted = 0, offered = 0, declined = 0, expired = 0, no_shows = 0}
local rows = {}
for _, id in ipairs(redis.call('ZRANGE', registry.session_list_key(session_id, 'all'), 0, -1)) do
    local registration = schalt.load(registry.registration_key(id))
    if registration then
        local view = registry.view(registration)
        local status, attendance = registration.status, registration.status
        if status == 'confirmed' then
            counts.confirmed = counts.confirmed + 1
            if registration.checked_in and registration.checked_in ~= '' then
                attendance, counts.present = 'present', counts.present + 1
            elseif over then
                attendance, counts.no_shows = 'no_show', counts.no_shows + 1
            else
                attendance = 'expected'
            end
        elseif status == 'cancelled' then
            if registration.late == '1' then
                attendance, counts.cancelled_late = 'cancelled_late', counts.cancelled_late + 1
            end
            counts.cancelled = counts.cancelled + 1
        elseif status == 'left' then
            counts.left = counts.left + 1
        elseif counts[status] then
            counts[status] = counts[status] + 1 -- waitlisted, offered, declined, expired
        end
        view.attendance = attendance
        rows[#rows + 1] = view
    end
end
local body = schalt.encode({session = {id = session.id, title = session.title,
    event_title = session.event_title, capacity = tonumber(session.capacity),
    status = session.status, start = session.start, ['end'] = session['end'],
    room = session.room, over = over}, counts = counts, registrations = rows},
    {'registrations'})
if not over then body = string.gsub(body, '"no_shows":0', '"no_shows":null', 1) end
return {200, body}
