-- user.list (reads): every account, by name, with its role and whether it is
-- locked; never a password's hash.
local names = redis.call('SMEMBERS', web.users_key())
table.sort(names)
local users = {}
for _, name in ipairs(names) do
    local user = schalt.load(web.user_key(name))
    if user then users[#users + 1] = web.view(user) end
end
return {200, schalt.encode({users = users}, {'users'})}
