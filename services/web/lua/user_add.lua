-- user.add (changes): a new organiser's or admin's account, {name, role,
-- hash} where hash is the password's Argon2id hash (made by schalt, which
-- never sends the password). An existing name is refused (409 user_exists).
local replayed = schalt.replay()
if replayed then return replayed end
local body = schalt.body()
if redis.call('EXISTS', web.user_key(body.name)) == 1 then
    return schalt.fail(409, 'user_exists', '/name',
        'there is already an account ' .. body.name .. ' (schalt user remove it first)')
end
local user = {name = body.name, role = body.role, hash = body.hash, created = schalt.now()}
schalt.store(web.user_key(body.name), user)
redis.call('SADD', web.users_key(), body.name)
return schalt.answer(201, cjson.encode({user = web.view(user)}))
