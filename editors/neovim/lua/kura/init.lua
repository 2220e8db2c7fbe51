--- kura for Neovim: starts `kura serve` for buffers inside a repository and keeps it running.
---
--- One client per repository root. The server command is resolved per root (its own `.venv`), and
--- a crashed server is restarted with backoff, so this uses `vim.lsp.start` on every version
--- rather than `vim.lsp.enable`, which has neither.
local config = require('kura.config')

local M = {}

M.name = 'kura'
local augroup = vim.api.nvim_create_augroup('kura', { clear = true })
local has_011 = vim.fn.has('nvim-0.11') == 1

-- Per-root session state: the crash count, whether we stopped it on purpose, buffers to re-attach.
---@type table<string, {attempts: integer, started_at: integer, stopping: boolean, bufs: table<integer, true>, restarting: boolean, warned_missing: boolean}>
local roots = {}

-- Messages go through here so that tests (and users) can see exactly what kura said.
function M.notify(msg, level)
  vim.schedule(function()
    vim.notify(msg, level or vim.log.levels.INFO, { title = 'kura' })
  end)
end

-- Client methods became `client:method()` in 0.11; 0.10 has closures called as `client.method()`.
function M.call(client, method, ...)
  if has_011 then
    return client[method](client, ...)
  end
  return client[method](...)
end

local function root_state(root)
  roots[root] = roots[root] or { attempts = 0, started_at = 0, stopping = false, bufs = {}, restarting = false }
  return roots[root]
end

--- The repository root of a buffer, or nil (untitled, non-file and out-of-repository buffers).
function M.root_of(buf)
  local name = vim.api.nvim_buf_get_name(buf)
  if name == '' or name:match('^%a[%w+.-]*://') then
    return nil -- untitled or remote (scp://, fugitive://, oil://): nothing the server can read
  end
  return vim.fs.root(buf, config.options.root_markers)
end

local function executable(path)
  return path ~= nil and path ~= '' and vim.fn.executable(path) == 1
end

--- The server command for a root and the places tried, in order: `cmd` from setup(),
--- `<root>/.venv/bin/kura`, `kura` on PATH.
---@return string[]|nil cmd, string[] tried
function M.resolve_cmd(root)
  local opts = config.options
  local tried = {}
  if opts.cmd then
    local cmd = type(opts.cmd) == 'string' and { opts.cmd } or opts.cmd
    table.insert(tried, ("setup({ cmd = { '%s', ... } })"):format(cmd[1]))
    return executable(cmd[1]) and vim.deepcopy(cmd) or nil, tried
  end
  if root then
    local venv = vim.fs.joinpath(root, '.venv', 'bin', 'kura')
    table.insert(tried, venv)
    if executable(venv) then
      return { venv, 'serve' }, tried
    end
  end
  table.insert(tried, '`kura` on PATH')
  local on_path = vim.fn.exepath('kura')
  if on_path ~= '' then
    return { on_path, 'serve' }, tried
  end
  return nil, tried
end

function M.missing_server_message(tried)
  return table.concat({
    'kura: no server found; tried ' .. table.concat(tried, ', ') .. '.',
    'Install it in the repository (`make setup`, or `pip install -e .` in its .venv),',
    "or point the plugin at one: require('kura').setup({ cmd = { '/path/to/kura', 'serve' } }).",
  }, '\n')
end

-- Lua tables that are empty encode as JSON arrays; the server wants objects.
local function as_object(t)
  if type(t) ~= 'table' then
    return t
  end
  if next(t) == nil then
    return vim.empty_dict()
  end
  local out = {}
  for k, v in pairs(t) do
    out[k] = as_object(v)
  end
  return out
end

function M.settings()
  return as_object(config.options.settings or {})
end

--- The running kura client for a buffer (default: current), or nil.
function M.client(buf)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  local get = vim.lsp.get_clients
  local clients = get({ name = M.name, bufnr = buf })
  if clients[1] then
    return clients[1]
  end
  -- Scratch buffers (explanations, previews) borrow the client of the repository they came from.
  local root = vim.b[buf].kura_root
  if root == nil then
    return nil
  end
  for _, c in ipairs(get({ name = M.name })) do
    if c.root_dir == root then
      return c
    end
  end
end

local on_exit -- forward declaration; the restart logic needs `attach`

-- Neovim warns "Client kura quit with exit code …" on every crash, from a callback it has just
-- scheduled; kura says it once per incident instead, so that message is dropped, once.
local function swallow_core_exit_notice(code, signal)
  if code == 0 and (signal == 0 or signal == 15) then
    return
  end
  local notify = vim.notify
  local pattern = '^Client ' .. vim.pesc(M.name) .. ' quit with exit code'
  local filter
  filter = function(msg, ...)
    if type(msg) == 'string' and msg:match(pattern) then
      if vim.notify == filter then
        vim.notify = notify
      end
      return
    end
    return notify(msg, ...)
  end
  vim.notify = filter
  vim.defer_fn(function() -- in case Neovim stops sending it
    if vim.notify == filter then
      vim.notify = notify
    end
  end, 1000)
end

--- Start (or reuse) the server for a buffer's repository and attach the buffer.
function M.attach(buf)
  if not vim.api.nvim_buf_is_valid(buf) or vim.bo[buf].buftype ~= '' then
    return
  end
  local opts = config.options
  local ft = vim.bo[buf].filetype
  if opts.filetypes and not vim.tbl_contains(opts.filetypes, ft) then
    return
  end
  if vim.tbl_contains(opts.exclude_filetypes or {}, ft) then
    return
  end
  local root = M.root_of(buf)
  if not root then
    return
  end
  vim.b[buf].kura_root = root
  local state = root_state(root)
  state.bufs[buf] = true
  if state.restarting then
    return -- the pending restart attaches it
  end
  local cmd, tried = M.resolve_cmd(root)
  if not cmd then
    if not state.warned_missing then -- once per root: opening more files must not repeat it
      state.warned_missing = true
      M.notify(M.missing_server_message(tried), vim.log.levels.WARN)
    end
    return
  end
  local settings = M.settings()
  vim.lsp.start({
    name = M.name,
    cmd = cmd,
    cmd_env = opts.cmd_env,
    cmd_cwd = root,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } },
    init_options = settings,
    settings = { kura = settings }, -- what the built-in workspace/configuration handler answers
    handlers = require('kura.commands').handlers(),
    flags = { debounce_text_changes = 150 },
    on_init = function(client)
      state.started_at = vim.uv.now()
      state.stopping = false
      require('kura.status').on_client(client)
    end,
    on_exit = function(code, signal, client_id)
      swallow_core_exit_notice(code, signal)
      vim.schedule(function()
        on_exit(root, code, signal, client_id)
      end)
    end,
  }, { bufnr = buf })
end

on_exit = function(root, code, signal, _)
  local state = root_state(root)
  if state.stopping or vim.v.exiting ~= vim.NIL or (code == 0 and signal == 0) then
    state.stopping = false
    return
  end
  local opts = config.options.restart
  if state.started_at > 0 and vim.uv.now() - state.started_at > opts.healthy_after_ms then
    state.attempts = 0 -- it ran well for a while: this is a new incident
  end
  state.attempts = state.attempts + 1
  local why = signal ~= 0 and ('signal ' .. signal) or ('code ' .. code)
  if state.attempts > opts.max_attempts then
    M.notify(('kura: the server keeps exiting (%s); stopped restarting it. `:KuraRestart` tries again, `:KuraLog` shows why.')
      :format(why), vim.log.levels.ERROR)
    return
  end
  local delay = math.min(opts.backoff_ms * 2 ^ (state.attempts - 1), opts.max_backoff_ms)
  if state.attempts == 1 then -- one message per incident, however many retries follow
    M.notify(('kura: the server exited (%s); restarting it. `:KuraLog` shows why.'):format(why), vim.log.levels.WARN)
  end
  state.restarting = true
  vim.defer_fn(function()
    state.restarting = false
    for b in pairs(state.bufs) do
      if vim.api.nvim_buf_is_loaded(b) then
        M.attach(b)
      else
        state.bufs[b] = nil
      end
    end
  end, delay)
end

--- Stop the servers (all, or the one for `buf`'s root) without triggering a restart.
function M.stop(buf)
  local root = buf and M.root_of(buf)
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
    if root == nil or c.root_dir == root then
      root_state(c.root_dir).stopping = true
      M.call(c, 'stop')
    end
  end
end

--- `:KuraRestart`: stop the server for this buffer's repository and start a fresh one.
function M.restart(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  local root = M.root_of(buf)
  if root then
    local state = root_state(root)
    state.attempts, state.warned_missing = 0, false
  end
  M.stop(buf)
  vim.defer_fn(function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(b) and (root == nil or M.root_of(b) == root) then
        M.attach(b)
      end
    end
  end, 300)
end

--- Send new settings to the running servers (the built-in handler answers their pull).
function M.update_settings(settings)
  config.options.settings = vim.tbl_deep_extend('force', config.options.settings or {}, settings)
  local s = M.settings()
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
    c.settings = { kura = s }
    if c.config then
      c.config.settings = { kura = s }
    end
    M.call(c, 'notify', 'workspace/didChangeConfiguration', { settings = { kura = s } })
  end
end

function M.setup(opts)
  if vim.fn.has('nvim-0.10') == 0 then
    vim.notify('kura needs Neovim 0.10 or newer', vim.log.levels.ERROR)
    return
  end
  config.merge(opts)
  vim.api.nvim_clear_autocmds({ group = augroup })
  vim.api.nvim_create_autocmd('FileType', {
    group = augroup,
    callback = function(ev)
      M.attach(ev.buf)
    end,
  })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = augroup,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == M.name then
        require('kura.inline').attach(ev.buf, client)
      end
    end,
  })
  vim.api.nvim_create_autocmd('LspDetach', {
    group = augroup,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == M.name then
        require('kura.inline').detach(ev.buf)
      end
    end,
  })
  -- Loaded lazily (after files were opened): attach what is already there.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype ~= '' then
      M.attach(buf)
    end
  end
  M.configured = true
end

return M
