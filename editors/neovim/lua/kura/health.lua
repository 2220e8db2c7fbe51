--- `:checkhealth kura`: Neovim version, the server found for this buffer, what the running server
--- says about its model, index and escalation policy, and `kura doctor`'s checks of the same setup.
local M = {}

local health = vim.health

local function v(x)
  return (x == nil or x == vim.NIL) and '—' or tostring(x)
end

-- The escalation policy as the server reports it (`kura/status` → policy: {state, files, errors,
-- providerConfigured, provider: {model, apiKeyEnv, apiKeySet}, tasks}); without a server, the files.
local function check_policy(root, status)
  local p = type(status) == 'table' and status.policy or nil
  if type(p) == 'table' then
    local files, existing = {}, {}
    for _, f in ipairs(type(p.files) == 'table' and p.files or {}) do
      table.insert(files, f)
      if vim.uv.fs_stat(f) then
        table.insert(existing, f)
      end
    end
    files = #files > 0 and table.concat(files, ', ') or 'none'
    if #existing == 0 then
      -- No policy file is the default, not a fault: escalation is simply off.
      health.info('no policy file (' .. files .. '): cloud escalation is off; `kura policy init` writes a starter')
    elseif type(p.errors) == 'table' and #p.errors > 0 then
      health.error('policy has errors (cloud escalation is off): ' .. table.concat(p.errors, '; '),
        { 'fix the file and line named above; `kura policy check` validates it' })
    elseif p.state == 'loaded' then
      health.ok('policy loaded from ' .. files)
    else
      health.info('policy: ' .. v(p.state))
    end
    local provider = type(p.provider) == 'table' and p.provider or nil
    if provider then
      local key = provider.apiKeySet and 'set' or 'NOT set'
      local report = provider.apiKeySet and health.ok or health.warn
      report(('cloud provider: model %s, key variable %s is %s'):format(v(provider.model), v(provider.apiKeyEnv), key))
    else
      health.info('no cloud provider configured: :KuraExplainCloud and :KuraFixCloud stay local-only')
    end
    return
  end
  local repo = root and vim.fs.joinpath(root, '.kura', 'policy.toml')
  local org = vim.env.KURA_ORG_POLICY or '/etc/kura/policy.toml'
  local found = {}
  if repo and vim.uv.fs_stat(repo) then
    table.insert(found, repo)
  end
  if vim.uv.fs_stat(org) then
    table.insert(found, org)
  end
  if #found > 0 then
    health.ok('policy files: ' .. table.concat(found, ', ') .. ' (`kura policy check` validates them)')
  else
    health.info('no escalation policy (.kura/policy.toml or ' .. org .. '): cloud commands stay off')
  end
end

-- `kura doctor --json` through the command the plugin starts the server with: `<kura> serve ...` becomes
-- `<kura> doctor`, `python -m lsp_server ...` becomes `python -m lsp_server.cli doctor`.
function M.doctor_cmd(cmd, settings)
  local out = {}
  for i, part in ipairs(cmd) do
    if part == 'serve' then
      break
    end
    if part == 'lsp_server' and cmd[i - 1] == '-m' then
      table.insert(out, 'lsp_server.cli')
      break
    end
    table.insert(out, part)
  end
  vim.list_extend(out, { 'doctor', '--json' })
  -- The doctor checks the configuration this editor gives the server.
  local function opt(flag, value)
    if type(value) == 'string' and value ~= '' then
      vim.list_extend(out, { flag, value })
    end
  end
  local s = type(settings) == 'table' and settings or {}
  local model = type(s.model) == 'table' and s.model or {}
  opt('--model', model.path)
  opt('--backend', model.backend)
  opt('--server-url', model.serverUrl)
  opt('--model-name', model.name)
  opt('--index', type(s.index) == 'table' and s.index.path or nil)
  opt('--usage-log', type(s.usage) == 'table' and s.usage.path or nil)
  return out
end

local DOCTOR_TIMEOUT_MS = 180000
-- This plugin's folder (lua/kura/health.lua is three levels down), so the doctor can name it.
local PLUGIN_ROOT = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')

local function check_doctor(cmd, root)
  health.start('kura: doctor')
  if not cmd then
    health.warn('`kura doctor` not run: no server command (see above)')
    return
  end
  local opts = require('kura.config').options
  local doctor = M.doctor_cmd(cmd, opts.settings)
  local env = vim.tbl_extend('force', opts.cmd_env or {}, { KURA_NEOVIM_PLUGIN = PLUGIN_ROOT })
  local ok, proc = pcall(vim.system, doctor, { cwd = root, env = env, text = true })
  if not ok then
    health.error('could not run ' .. table.concat(doctor, ' ') .. ': ' .. tostring(proc))
    return
  end
  local done = proc:wait(DOCTOR_TIMEOUT_MS)
  local decoded, checks = pcall(vim.json.decode, done.stdout or '')
  if not decoded or type(checks) ~= 'table' then
    local why = (done.stderr or ''):gsub('%s+$', '')
    health.warn(('`%s` gave no report (exit %s)%s'):format(table.concat(doctor, ' '), v(done.code), why ~= '' and (': ' .. why) or ''),
      { 'run `kura doctor` in a terminal; an older kura has no doctor command (update it)' })
    return
  end
  for _, c in ipairs(checks) do
    local text = ('%s: %s'):format(v(c.name), v(c.detail))
    local fix = (type(c.fix) == 'string' and c.fix ~= '') and { c.fix } or nil
    if c.status == 'ok' then
      health.ok(text)
    elseif c.status == 'warn' then
      health.warn(text, fix)
    else
      health.error(text, fix)
    end
  end
end

function M.check()
  local kura = require('kura')
  health.start('kura: editor')
  if vim.fn.has('nvim-0.10') == 1 then
    local ver = vim.version()
    health.ok(('Neovim %d.%d.%d'):format(ver.major, ver.minor, ver.patch))
  else
    health.error('Neovim 0.10 or newer is needed')
  end
  if not kura.configured then
    health.warn("require('kura').setup() has not run", { "add require('kura').setup() to your init.lua (lazy.nvim: opts = {})" })
    return
  end
  local inline = require('kura.inline')
  health.info('ghost text: ' .. (inline.use_native() and 'Neovim vim.lsp.inline_completion' or 'kura extmarks'))

  -- The buffer checkhealth was opened from (its own buffer is current now).
  local buf = vim.fn.bufnr('#')
  buf = buf > 0 and buf or vim.api.nvim_get_current_buf()
  local root = kura.root_of(buf) or vim.fs.root(vim.fn.getcwd(), require('kura.config').options.root_markers)

  health.start('kura: server')
  if root then
    health.ok('repository: ' .. root)
  else
    health.warn('not inside a repository: kura starts for files under a .git folder')
  end
  local cmd, tried = kura.resolve_cmd(root)
  if cmd then
    health.ok('server command: ' .. table.concat(cmd, ' '))
  else
    health.error(kura.missing_server_message(tried))
  end

  local client = kura.client(buf)
  if not client and root then
    for _, c in ipairs(vim.lsp.get_clients({ name = kura.name })) do
      if c.root_dir == root then
        client = c
      end
    end
  end
  local status
  if not client then
    health.warn('no kura server is running for this buffer', { 'open a file of the repository, then :checkhealth kura' })
  else
    health.ok(('server running (client %d, root %s)'):format(client.id, v(client.root_dir)))
    local resp = kura.call(client, 'request_sync', 'kura/status', vim.empty_dict(), 3000, buf)
    if not resp or resp.err then
      health.error('kura/status did not answer: ' .. (resp and resp.err and (resp.err.message or vim.inspect(resp.err)) or 'timeout'))
    else
      status = resp.result
      require('kura.status').remember(client.id, status)
    end
  end

  if status then
    health.start('kura: model')
    local model = require('kura.status').model_info(status)
    local desc = ('%s (backend %s, FIM %s), file %s'):format(v(model.name), v(model.backend), v(model.fim), v(model.path))
    if model.state == 'error' or model.error then
      health.error('model: ' .. v(model.error) .. ' — ' .. desc, { 'set a model with settings.model.path, or `kura model --help`' })
    elseif model.ready then
      health.ok('model ready: ' .. desc)
    else
      health.info('model ' .. v(model.state) .. ': ' .. desc)
    end
    health.info('completions ' .. (status.completionsEnabled == false and 'off (:KuraToggle)' or 'on'))

    health.start('kura: index')
    local index = type(status.index) == 'table' and status.index or {}
    local counts = ('%s files, %s symbols, %s chunks at %s'):format(v(index.files), v(index.symbols), v(index.chunks), v(index.root))
    if index.state == 'ready' then
      health.ok('index ready: ' .. counts)
    elseif index.state == 'error' or index.state == 'unavailable' then
      health.error('index ' .. v(index.state) .. ': ' .. v(index.error or status.lastError), { ':KuraIndex rebuilds it' })
    else
      health.info('index ' .. v(index.state) .. ': ' .. counts)
    end
    if type(status.lastError) == 'string' and status.lastError ~= '' then
      health.warn('last error: ' .. status.lastError)
    end
  end

  health.start('kura: policy')
  check_policy(root, status)

  check_doctor(cmd, root or vim.fn.getcwd())
end

return M
