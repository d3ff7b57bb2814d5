-- Argo CD health of an Application, for app-of-apps: Argo CD 1.8+ no longer assesses child
-- Applications, so without this the upskill-stack Application (sync wave 1) would not wait for
-- upskill-operator (wave 0) to be Healthy. This is the snippet Argo CD's documentation gives.
local hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
return hs
