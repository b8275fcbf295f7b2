-- notice.get (reads only): the body's id.
local id = schalt.body().id
local notice = schalt.load(notifier.notice_key(id))
if not notice then
    return schalt.error(404, 'not_found', '/id', 'no notice ' .. id)
end
return {200, notifier.encode({notice = notifier.view(notice)})}
