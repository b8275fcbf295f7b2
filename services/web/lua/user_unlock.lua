-- user.unlock (changes): forgets an account's failed logins, so that a
-- locked account can log in again at once.
local replayed = schalt.replay()
if replayed then return replayed end
local user, refused = web.account()
if not user then return refused end
redis.call('DEL', web.failures_key(user.name))
return schalt.answer(200, cjson.encode({user = web.view(user)}))
