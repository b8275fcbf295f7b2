-- user.unlock (changes): forgets an account's failed logins, so that a
-- locked account can log in again at once.
local replayed = schalt.replay()
if replayed then return replayed end
local name = schalt.body().name
local user = schalt.load(web.user_key(name))
if not user then
    return schalt.fail(404, 'not_found', '/name', 'no account ' .. name)
end
redis.call('DEL', web.failures_key(name))
return schalt.answer(200, cjson.encode({user = web.view(user)}))
