--- The status line: `require('kura.status').statusline()` returns a short string and never blocks.
---
--- It answers from the last `kura/status` result, refreshed in the background every few seconds
--- while a kura server runs, and from `$/progress` while indexing. For lualine:
---   sections = { lualine_x = { { require('kura.status').statusline, cond = require('kura.status').attached } } }
local config = require('kura.config')

local M = {}

local last = {} ---@type table<integer, table> client id -> kura/status result
local progress = {} ---@type table<integer, string> client id -> "indexing 40%"
local timer ---@type uv.uv_timer_t|nil

local function kura()
  return require('kura')
end

function M.remember(client_id, result)
  if type(result) == 'table' then
    last[client_id] = result
  end
end

--- The last `kura/status` result for the current buffer's server (nil until the first answer).
function M.get(buf)
  local client = kura().client(buf)
  return client and last[client.id] or nil
end

local function refresh()
  for _, c in ipairs(vim.lsp.get_clients({ name = kura().name })) do
    local id = c.id
    pcall(kura().call, c, 'request', 'kura/status', vim.empty_dict(), function(err, r)
      if not err then
        M.remember(id, r)
        pcall(vim.cmd.redrawstatus)
      end
    end)
  end
  if #vim.lsp.get_clients({ name = kura().name }) == 0 and timer then
    timer:stop()
    timer:close()
    timer = nil
  end
end

--- Called when a kura client starts: keep its status fresh while it runs.
function M.on_client(_)
  if timer then
    return
  end
  timer = vim.uv.new_timer()
  timer:start(500, config.options.status.refresh_ms, vim.schedule_wrap(refresh))
end

vim.api.nvim_create_autocmd('LspProgress', {
  group = vim.api.nvim_create_augroup('kura.status', { clear = true }),
  callback = function(ev)
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    local value = ev.data.params and ev.data.params.value
    if not client or client.name ~= 'kura' or type(value) ~= 'table' then
      return
    end
    if value.kind == 'end' then
      progress[client.id] = nil
      refresh()
    else
      local pct = value.percentage and (' %d%%'):format(value.percentage) or ''
      progress[client.id] = 'indexing' .. pct
    end
    pcall(vim.cmd.redrawstatus)
  end,
})

local function present(x)
  if x ~= nil and x ~= vim.NIL and x ~= '' then
    return x
  end
end

--- The model part of `kura/status` as {state, name, backend, path, fim, error, ready}; accepts the
--- documented keys and the server's longer spellings (model_name, model_path, fim_template).
function M.model_info(s)
  local m = type(s) == 'table' and type(s.model) == 'table' and s.model or {}
  local state = present(m.state)
  local path = present(m.path) or present(m.model_path)
  return {
    state = state,
    name = present(m.name) or present(m.model_name) or (path and vim.fs.basename(path)) or present(m.description),
    backend = present(m.backend) or present(s and s.backend),
    path = path,
    fim = present(m.fim) or present(m.fim_template),
    error = present(m.error) or present(m.last_error),
    ready = state == 'ready' or state == 'loaded',
  }
end

--- Whether the current buffer has a kura server (lualine's `cond`).
function M.attached()
  return kura().client(0) ~= nil
end

--- A short status: "kura: <model> · <index state>", with "off" when completions are off and the
--- last error when there is one. Empty when this buffer has no kura server.
function M.statusline()
  local client = kura().client(0)
  if not client then
    return ''
  end
  local s = last[client.id]
  if not s then
    return 'kura: starting'
  end
  local parts = {}
  local model = M.model_info(s)
  if model.state == 'restarting' then -- the model process crashed; the server restarts it
    table.insert(parts, 'model restarting')
  elseif model.state == 'error' or model.error then
    table.insert(parts, 'model error')
  elseif model.state and not model.ready then
    table.insert(parts, 'model ' .. model.state)
  else
    table.insert(parts, model.name or model.backend or 'model')
  end
  local index = type(s.index) == 'table' and s.index or {}
  table.insert(parts, progress[client.id] or ('index ' .. tostring(index.state or '?')))
  if s.completionsEnabled == false or not config.options.inline.enabled then
    table.insert(parts, 'off')
  end
  if type(s.lastError) == 'string' and s.lastError ~= '' then
    table.insert(parts, '!')
  end
  return 'kura: ' .. table.concat(parts, ' · ')
end

--- `kura/status` as Markdown lines, for `:KuraStatus`.
function M.describe(s, client)
  s = type(s) == 'table' and s or {}
  local model = M.model_info(s)
  local index = type(s.index) == 'table' and s.index or {}
  local function v(x)
    return (x == nil or x == vim.NIL) and '—' or tostring(x)
  end
  local lines = {
    '# kura ' .. v(s.version),
    '',
    ('- **server**: %s (root `%s`)'):format(table.concat(client.config.cmd or {}, ' '), v(client.root_dir)),
    ('- **model**: %s — %s (backend %s, FIM %s)'):format(v(model.name), v(model.state), v(model.backend), v(model.fim)),
    ('- **model file**: `%s`'):format(v(model.path)),
    ('- **index**: %s — %s files, %s symbols, %s chunks'):format(v(index.state), v(index.files), v(index.symbols), v(index.chunks)),
    ('- **completions**: %s'):format(s.completionsEnabled == false and 'off' or 'on'),
  }
  if type(index.progress) == 'table' then
    table.insert(lines, ('- **indexing**: %s/%s files'):format(v(index.progress.done), v(index.progress.total)))
  end
  if type(index.lastUpdate) == 'number' then
    table.insert(lines, '- **index updated**: ' .. os.date('%Y-%m-%d %H:%M:%S', math.floor(index.lastUpdate)))
  end
  if model.error then
    table.insert(lines, '- **model error**: ' .. v(model.error))
  end
  if type(s.policy) == 'table' then
    local p = s.policy
    local files = type(p.files) == 'table' and #p.files > 0 and table.concat(p.files, ', ') or 'no policy file'
    local provider = type(p.provider) == 'table' and ('%s (key %s)'):format(v(p.provider.model), p.provider.apiKeySet and 'set' or 'not set')
      or 'no cloud provider'
    table.insert(lines, ('- **policy**: %s — %s; %s'):format(v(p.state), files, provider))
    if type(p.errors) == 'table' and #p.errors > 0 then
      table.insert(lines, '- **policy errors**: ' .. table.concat(p.errors, '; '))
    end
  end
  table.insert(lines, '- **last error**: ' .. v(s.lastError))
  return lines
end

return M
