-- Argo CD health of an Upskill custom resource (UpskillTable, UpskillDatabase, UpskillSecret).
-- health/kustomization.yaml puts it in argocd-cm once per kind; tests/delivery/test_argocd.py runs it under Lua 5.1
-- (gopher-lua's dialect) against resources in every phase.
--   Degraded     Terminal=True: retrying cannot help (invalid spec, immutable field, foreign owner,
--                access denied, deletion blocked). Fix the spec.
--   Healthy      Ready=True for the current generation.
--   Progressing  everything else: no status yet, a newer spec not reconciled yet, Ready=False while
--                AWS works (or a transient error is retried), deleting.
local hs = {}
local meta = obj.metadata or {}
local status = obj.status

local function find(conditions, wanted)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == wanted then
      return condition
    end
  end
  return nil
end

local function describe(condition, fallback)
  if condition == nil then
    return fallback
  end
  local text = condition.reason or ""
  if condition.message ~= nil and condition.message ~= "" then
    text = text .. ": " .. condition.message
  end
  if text == "" then
    return fallback
  end
  return text
end

local conditions = nil
if status ~= nil then
  conditions = status.conditions
end
local terminal = find(conditions, "Terminal")
local ready = find(conditions, "Ready")
local generation = meta.generation or 0
local observed = 0
if status ~= nil and status.observedGeneration ~= nil then
  observed = status.observedGeneration
end
if ready ~= nil and ready.observedGeneration ~= nil then
  observed = ready.observedGeneration
end

if meta.deletionTimestamp ~= nil then
  if terminal ~= nil and terminal.status == "True" then
    hs.status = "Degraded"
    hs.message = "Deletion blocked: " .. describe(terminal, "see status.conditions")
  else
    hs.status = "Progressing"
    hs.message = "Deleting: " .. ((status and status.message) or "waiting for the operator")
  end
  return hs
end

if conditions == nil or #conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile"
  return hs
end

if generation > observed then
  hs.status = "Progressing"
  hs.message = "Generation " .. generation .. " not reconciled yet (observed " .. observed .. ")"
  return hs
end

if terminal ~= nil and terminal.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(terminal, "Terminal error")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for Ready")
return hs
