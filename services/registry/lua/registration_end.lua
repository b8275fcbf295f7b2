-- registration.cancel and registration.decline: one registration ends, and
-- the seat it frees goes to the first on the waitlist, in the same step.
-- ARGV[5] the registration id, ARGV[6] who ends it (organiser: by its id;
-- participant: by the token of a link, checked by the prepare function),
-- ARGV[7] what (cancel: give a seat back or leave the waitlist; decline:
-- leave the waitlist), ARGV[8] why the token is refused ("" if it is not).
--
-- Refused, changing nothing: a registration that already ended (409), one
-- whose session has begun (409), a person's cancellation of a seat after
-- the session's deadline (409; the organiser may still cancel it, counted
-- as late), and declining a seat (409: declining is for the waitlisted and
-- for offers). An offered seat declined (or cancelled) goes to the next
-- waiting at once.
local seen = schalt.replay()
if seen then return seen end
local id, by, action, stamp = ARGV[5], ARGV[6], ARGV[7], schalt.now()
local field = by == 'organiser' and '/id' or '/token'
-- A token of this office, but expired or for another action (ARGV[8])
if ARGV[8] ~= '' then
    local refusal = cjson.decode(ARGV[8])
    return schalt.fail(refusal.status, refusal.code, field, refusal.message)
end
local now = tonumber(ARGV[3])
local key = registry.registration_key(id)
local registration = schalt.load(key)
if not registration then
    return schalt.fail(404, 'not_found', field, 'no registration ' .. id)
end
local session = schalt.load(registry.session_key(registration.session))
local status, code, message = registry.end_refusal(registration, session, action, by, now)
if status then return schalt.fail(status, code, field, message) end
local late = code
local holds_seat = registration.status == 'confirmed'

-- The end, kept with who and when, and the seat, offered seat or waitlist
-- place freed
local reason = schalt.body().reason or ''
local offered = registration.status == 'offered'
local list = holds_seat and 'confirmed' or offered and 'offered' or 'waitlist'
registration.status = holds_seat and 'cancelled' or offered and 'declined' or 'left'
redis.call('HSET', key, 'status', registration.status, 'ended', stamp, 'ended_by', by,
    'reason', reason, 'late', late and '1' or '0')
registration.ended, registration.ended_by, registration.reason = stamp, by, reason
registration.late = late and '1' or '0'
redis.call('ZREM', registry.session_list_key(session.id, list), id)
if offered then redis.call('ZREM', registry.due_key, id) end
-- The address may register again (as a newcomer, at the end of the line)
registry.release(registration)
-- (a seat the office cancelled is told in words of its own)
local template = 'registration-' .. (offered and 'left' or registration.status)
if template == 'registration-cancelled' and by == 'organiser' then
    template = 'registration-cancelled-by-office'
end
registry.notify(registry.notice_id(id, registration.status), template, registration, session,
    {reason = reason})

local promoted = (holds_seat or offered) and registry.fill(session, now, stamp) or {}
registry.alert(session)
local view = registry.view(registration)
local body = schalt.encode({registration = view, promoted = promoted}, {'promoted'})
local event = schalt.encode({registration = {id = id, session = session.id,
    status = registration.status}, promoted = promoted}, {'promoted'})
return schalt.answer(200, body, 'registration.ended', event)
