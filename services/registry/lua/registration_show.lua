-- registration.show (reads only): what the link of an e-mail is about, for
-- the page behind it, which shows it and a button before anything changes
-- (mail scanners open every link). ARGV[5] the registration the token
-- names, ARGV[6] the token's action (cancel, decline, accept), ARGV[7] its
-- refusal as JSON (expired) or "".
--
-- The reply names the registration's status and session, the person's
-- name (not the address: a link may have been passed on), whom to contact,
-- and, if the button would be refused now, that refusal: the same one
-- registration.cancel, .decline or .accept would answer (registry.lua).
if ARGV[7] ~= '' then
    local refusal = cjson.decode(ARGV[7])
    return schalt.error(refusal.status, refusal.code, '/token', refusal.message)
end
local id, action, now = ARGV[5], ARGV[6], tonumber(ARGV[3])
local registration = schalt.load(registry.registration_key(id))
local session = registration and schalt.load(registry.session_key(registration.session))
if not session then
    return schalt.error(404, 'not_found', '/token', 'no registration ' .. id)
end
registration.id = id
local status, code, message
if action == 'accept' then
    status, code, message = registry.accept_refusal(registration, session, now)
else
    status, code, message = registry.end_refusal(registration, session, action, 'participant', now)
end
local view = registry.view(registration)
local shown = {action = action,
    registration = {id = id, name = registration.name, status = registration.status,
        position = view.position, offer_until = view.offer_until, code = view.code},
    session = {id = session.id, title = session.title, room = session.room,
        start = session.start, ['end'] = session['end'],
        cancel_until = session.cancel_until ~= '' and session.cancel_until or nil,
        status = session.status},
    event = {id = session.event, title = session.event_title, place = session.place},
    contact = {name = session.organiser_name ~= '' and session.organiser_name or nil,
        email = session.organiser_email ~= '' and session.organiser_email or nil}}
if status then shown.refusal = {status = status, code = code, message = message} end
return {200, cjson.encode(shown)}
