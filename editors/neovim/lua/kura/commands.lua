--- The `:Kura*` commands: explain (streamed Markdown), fix (diff preview, then apply), cloud variants,
--- escalation preview, reindex, status, toggle; and the handler for `kura/explanation` notifications.
local config = require('kura.config')

local M = {}

local api = vim.api

local function kura()
  return require('kura')
end

local function warn(msg)
  kura().notify(msg, vim.log.levels.WARN)
end

local function client_or_warn(buf)
  local client = kura().client(buf)
  if client then
    return client
  end
  local root = kura().root_of(buf)
  if not kura().configured then
    warn("kura: not set up; add require('kura').setup() to your config")
  elseif not root then
    warn('kura: this buffer is not a file inside a repository (no ' .. table.concat(config.options.root_markers, ', ') .. ' above it)')
  else
    local cmd, tried = kura().resolve_cmd(root)
    warn(cmd and 'kura: the server is not running for this buffer yet; see :KuraStatus or :checkhealth kura'
      or kura().missing_server_message(tried))
  end
end

--- Run a server command; `on_result(result)` gets its result. An error becomes one message, and
--- `on_error(message)` when given (so a window waiting for the answer can say it).
local function execute(client, buf, command, arguments, on_result, on_error)
  kura().call(client, 'request', 'workspace/executeCommand', { command = command, arguments = arguments },
    function(err, result)
      if not err and type(result) == 'table' and type(result.error) == 'string' and result.error ~= '' then
        err = { message = result.error } -- the server answered, but with an error it wants shown
      end
      if err then
        local msg = ('kura: %s failed: %s'):format(command, err.message or vim.inspect(err))
        warn(msg)
        if on_error then
          on_error(msg)
        end
        return
      end
      on_result(result)
    end, buf)
end

-- The range a command works on, in the client's encoding: the selection when there is one
-- (characterwise from the last visual mode when it matches the lines), else the cursor (empty).
local function lsp_range(client, buf, cmd_opts)
  local enc = client.offset_encoding or 'utf-16'
  if cmd_opts and cmd_opts.range and cmd_opts.range > 0 then
    local s, e = vim.fn.getpos("'<"), vim.fn.getpos("'>")
    local line1, line2 = cmd_opts.line1, cmd_opts.line2
    if s[2] == line1 and e[2] == line2 and vim.fn.visualmode() == 'v' then
      local last = api.nvim_buf_get_lines(buf, line2 - 1, line2, false)[1] or ''
      return vim.lsp.util.make_given_range_params({ line1, s[3] - 1 }, { line2, math.min(e[3], #last) - 1 }, buf, enc).range
    end
    local last = api.nvim_buf_get_lines(buf, line2 - 1, line2, false)[1] or ''
    return vim.lsp.util.make_given_range_params({ line1, 0 }, { line2, math.max(#last - 1, 0) }, buf, enc).range
  end
  local pos = vim.lsp.util.make_position_params(0, enc).position
  return { start = pos, ['end'] = pos }
end

-- Scratch windows -----------------------------------------------------------------------------

local function scratch(filetype, title, root, layout)
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = filetype
  vim.b[buf].kura_root = root
  local opts = config.options.explain
  local win
  if (layout or opts.layout) == 'split' then
    local width = math.floor(api.nvim_win_get_width(0) * opts.width)
    vim.cmd(('botright vertical %dsplit'):format(math.max(width, 40)))
    win = api.nvim_get_current_win()
    api.nvim_win_set_buf(win, buf)
    vim.cmd('wincmd p') -- keep editing where you were while it streams
  else
    local width = math.max(math.floor(vim.o.columns * opts.width), math.min(60, vim.o.columns - 4))
    local height = math.max(math.floor(vim.o.lines * opts.height), 5)
    local float = {
      relative = 'editor',
      width = width,
      height = height,
      row = math.floor((vim.o.lines - height) / 2) - 1,
      col = math.floor((vim.o.columns - width) / 2),
      style = 'minimal',
      border = opts.border,
    }
    if vim.fn.has('nvim-0.10') == 1 then
      float.title, float.title_pos = ' ' .. title .. ' ', 'center'
    end
    win = api.nvim_open_win(buf, true, float)
    vim.keymap.set('n', 'q', '<Cmd>close<CR>', { buffer = buf, nowait = true, desc = 'kura: close' })
  end
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].conceallevel = 2
  return buf, win
end

local function set_text(buf, text)
  if not api.nvim_buf_is_valid(buf) then
    return
  end
  local lines = vim.split(text, '\n', { plain = true })
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  -- Follow the stream unless the reader scrolled up.
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    local cur = api.nvim_win_get_cursor(win)[1]
    if win ~= api.nvim_get_current_win() or cur >= #lines - 1 then
      api.nvim_win_set_cursor(win, { #lines, 0 })
    end
  end
end

-- Shrink a float to its text (status, previews); explanations keep their room to stream into.
local function fit_height(win, buf)
  if api.nvim_win_is_valid(win) and api.nvim_win_get_config(win).relative ~= '' then
    local width = api.nvim_win_get_width(win)
    local rows = 0
    for _, l in ipairs(api.nvim_buf_get_lines(buf, 0, -1, false)) do
      rows = rows + math.max(1, math.ceil(vim.fn.strdisplaywidth(l) / width))
    end
    api.nvim_win_set_height(win, math.max(3, math.min(rows, api.nvim_win_get_height(win))))
  end
end

-- Explanations ----------------------------------------------------------------------------------

-- Explanations being streamed: by server id once known, and the ones still waiting for their id.
local streams = {} ---@type table<any, {buf: integer, text: string, done: boolean}>
local waiting = {} ---@type {buf: integer, text: string, uri: string, done: boolean}[]

local function on_explanation(_, params)
  if type(params) ~= 'table' then
    return
  end
  local s = streams[params.id]
  if not s then
    -- The first chunk may come before the command's answer names its id: it belongs to the
    -- oldest explanation of that file still waiting.
    for i, w in ipairs(waiting) do
      if w.uri == params.uri then
        s = table.remove(waiting, i)
        streams[params.id] = s
        break
      end
    end
  end
  if not s or s.done then
    return
  end
  s.text = s.text .. (params.chunk or '')
  s.done = params.done == true
  set_text(s.buf, s.text)
end

-- What the server showed lately, so that a command's answer repeating it is not shown twice.
local shown = {} ---@type table<string, integer> message -> time shown (ms)

local function recently_shown(msg)
  local at = type(msg) == 'string' and shown[vim.trim(msg)]
  return at ~= nil and at ~= false and vim.uv.now() - at < 10000
end

function M.handlers()
  return {
    ['kura/explanation'] = function(err, params, ctx)
      vim.schedule(function()
        on_explanation(err, params, ctx)
      end)
    end,
    ['kura/suggestionReady'] = function(_, params)
      vim.schedule(function()
        require('kura.inline').suggestion_ready(type(params) == 'table' and params.uri or nil)
      end)
    end,
    ['kura/answer'] = function(_, params)
      vim.schedule(function()
        require('kura.ask').on_answer(params)
      end)
    end,
    ['kura/generation'] = function(_, params)
      vim.schedule(function()
        require('kura.generate').on_generation(params)
      end)
    end,
    ['window/showMessage'] = function(err, params, ctx)
      if type(params) == 'table' and type(params.message) == 'string' then
        shown[vim.trim(params.message)] = vim.uv.now()
      end
      return vim.lsp.handlers['window/showMessage'](err, params, ctx)
    end,
  }
end

--- Whether the server offers a command (kura.reindex and kura.toggleCompletions came later).
local function supports(client, command)
  local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
  return type(provider) == 'table' and vim.tbl_contains(provider.commands or {}, command)
end

local function explain(cloud, cmd_opts)
  local src = api.nvim_get_current_buf()
  local client = client_or_warn(src)
  if not client then
    return
  end
  local uri = vim.uri_from_bufnr(src)
  local args = { { uri = uri, range = lsp_range(client, src, cmd_opts) } }
  local title = cloud and 'kura: explanation (cloud, sanitized)' or 'kura: explanation'
  local buf = scratch('markdown', title, client.root_dir)
  local stream = { buf = buf, text = '', uri = uri, done = false }
  set_text(buf, '_Explaining…_')
  table.insert(waiting, stream)
  local function finished()
    for i, w in ipairs(waiting) do
      if w == stream then
        table.remove(waiting, i)
      end
    end
    stream.done = true
  end
  execute(client, src, cloud and 'kura.explainCloud' or 'kura.explain', args, function(result)
    finished()
    if type(result) == 'table' and result.id ~= nil then
      streams[result.id] = nil
    end
    -- The answer's Markdown is the whole explanation; it replaces what streamed in.
    local markdown = type(result) == 'table' and result.markdown or nil
    if type(markdown) == 'string' and markdown ~= '' then
      set_text(buf, markdown)
    elseif stream.text == '' then
      set_text(buf, '_No explanation came back._')
    end
  end, function(msg)
    finished()
    set_text(buf, stream.text .. (stream.text ~= '' and '\n\n' or '') .. '**' .. msg .. '**')
  end)
end

-- Fixes ------------------------------------------------------------------------------------------

local function edits_for(edit, uri)
  local edits = {}
  for u, list in pairs(edit.changes or {}) do
    if u == uri then
      vim.list_extend(edits, list)
    end
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument and change.textDocument.uri == uri then
      vim.list_extend(edits, change.edits or {})
    end
  end
  return edits
end

--- The unified diff a WorkspaceEdit would make to `buf` (applied to a scratch copy).
function M.preview_diff(buf, edit, enc)
  local uri = vim.uri_from_bufnr(buf)
  local before = api.nvim_buf_get_lines(buf, 0, -1, false)
  local copy = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(copy, 0, -1, false, before)
  vim.lsp.util.apply_text_edits(edits_for(edit, uri), copy, enc)
  local after = api.nvim_buf_get_lines(copy, 0, -1, false)
  api.nvim_buf_delete(copy, { force = true })
  local name = vim.fn.fnamemodify(api.nvim_buf_get_name(buf), ':~:.')
  local diff = vim.diff(table.concat(before, '\n') .. '\n', table.concat(after, '\n') .. '\n', { result_type = 'unified' })
  return ('--- a/%s\n+++ b/%s\n%s'):format(name, name, diff)
end

local function fix(cloud, cmd_opts)
  local src = api.nvim_get_current_buf()
  local client = client_or_warn(src)
  if not client then
    return
  end
  local range = lsp_range(client, src, cmd_opts)
  local arg = { uri = vim.uri_from_bufnr(src), range = range }
  local line = range.start.line
  local diags = vim.diagnostic.get(src, { lnum = line })
  if diags[1] then
    arg.diagnostic = diags[1].message
  end
  kura().notify('kura: asking for a fix…')
  execute(client, src, cloud and 'kura.fixCloud' or 'kura.fix', { arg }, function(result)
    if type(result) ~= 'table' or result.edit == nil or result.edit == vim.NIL then
      local msg = type(result) == 'table' and result.message or nil
      if not recently_shown(msg) then -- the server may have shown why already
        kura().notify(type(msg) == 'string' and msg ~= '' and msg or 'kura: no fix was proposed.')
      end
      return
    end
    local enc = client.offset_encoding or 'utf-16'
    local diff = M.preview_diff(src, result.edit, enc)
    local header = { result.message or '', '', 'a: apply   q: cancel', '' }
    local buf, win = scratch('diff', cloud and 'kura: fix (cloud)' or 'kura: fix', client.root_dir, 'float')
    set_text(buf, table.concat(header, '\n') .. diff)
    fit_height(win, buf)
    api.nvim_win_set_cursor(win, { 1, 0 })
    vim.keymap.set('n', 'a', function()
      api.nvim_win_close(win, true)
      vim.lsp.util.apply_workspace_edit(result.edit, enc)
      execute(client, src, 'kura.didApplyFix', { { uri = arg.uri } }, function() end) -- for the usage log
      kura().notify('kura: fix applied')
    end, { buffer = buf, nowait = true, desc = 'kura: apply the fix' })
  end)
end

-- The rest -----------------------------------------------------------------------------------------

local function preview(cmd_opts)
  local src = api.nvim_get_current_buf()
  local client = client_or_warn(src)
  if not client then
    return
  end
  local task = (cmd_opts.args ~= '' and cmd_opts.args) or 'explain'
  local arg = { uri = vim.uri_from_bufnr(src), range = lsp_range(client, src, cmd_opts), task = task }
  execute(client, src, 'kura.previewEscalation', { arg }, function(r)
    r = type(r) == 'table' and r or {}
    local out = {
      ('# What `%s` would send to the cloud'):format(task),
      '',
      ('**Decision:** %s — %s'):format(tostring(r.decision), tostring(r.reason or '')),
      '',
    }
    if type(r.redactions) == 'table' and #r.redactions > 0 then
      table.insert(out, '## Redactions')
      for _, red in ipairs(r.redactions) do
        table.insert(out, ('- line %s: %s (%s)'):format(tostring(red.line), tostring(red.rule), tostring(red.kind)))
      end
      table.insert(out, '')
    end
    table.insert(out, '## Payload')
    table.insert(out, '')
    local payload = r.payload
    if type(payload) ~= 'string' then
      payload = (payload == nil or payload == vim.NIL) and '' or vim.inspect(payload)
    end
    if payload == '' then
      payload = '(nothing would be sent)'
    end
    table.insert(out, '```')
    table.insert(out, payload)
    table.insert(out, '```')
    local buf, win = scratch('markdown', 'kura: escalation preview', client.root_dir, 'float')
    set_text(buf, table.concat(out, '\n'))
    fit_height(win, buf)
    api.nvim_win_set_cursor(win, { 1, 0 })
  end)
end

local function reindex()
  local src = api.nvim_get_current_buf()
  local client = client_or_warn(src)
  if not client then
    return
  end
  if not supports(client, 'kura.reindex') then
    warn(('kura: this server has no kura.reindex command; run `kura index %s` in a shell'):format(client.root_dir or '.'))
    return
  end
  kura().notify('kura: reindexing…')
  execute(client, src, 'kura.reindex', {}, function(r)
    r = type(r) == 'table' and r or {}
    kura().notify(('kura: indexed %s files (%s parsed) in %.1fs'):format(
      tostring(r.files or '?'), tostring(r.parsed or '?'), tonumber(r.seconds) or 0))
  end)
end

local function toggle(cmd_opts)
  local src = api.nvim_get_current_buf()
  local want = nil
  if cmd_opts.args == 'on' then
    want = true
  elseif cmd_opts.args == 'off' then
    want = false
  else
    want = not config.options.inline.enabled
  end
  require('kura.inline').set_enabled(want)
  local client = kura().client(src)
  if client and not supports(client, 'kura.toggleCompletions') then
    kura().update_settings({ completion = { enabled = want } }) -- the server re-reads its settings
    kura().notify('kura: completions ' .. (want and 'on' or 'off'))
  elseif client then
    execute(client, src, 'kura.toggleCompletions', { want }, function(r)
      local on = type(r) == 'table' and r.enabled
      if on == nil then
        on = want
      end
      kura().notify('kura: completions ' .. (on and 'on' or 'off'))
    end)
  else
    kura().notify('kura: completions ' .. (want and 'on' or 'off'))
  end
end

local function show_status()
  local src = api.nvim_get_current_buf()
  local client = client_or_warn(src)
  if not client then
    return
  end
  kura().call(client, 'request', 'kura/status', vim.empty_dict(), function(err, r)
    if err then
      warn('kura: kura/status failed: ' .. (err.message or vim.inspect(err)))
      return
    end
    require('kura.status').remember(client.id, r)
    local buf, win = scratch('markdown', 'kura: status', client.root_dir, 'float')
    set_text(buf, table.concat(require('kura.status').describe(r, client), '\n'))
    fit_height(win, buf)
    api.nvim_win_set_cursor(win, { 1, 0 })
  end, src)
end

local function open_log()
  local path = vim.lsp.log.get_filename()
  vim.cmd.tabnew(vim.fn.fnameescape(path))
end

--- What other command modules (generate.lua) share with these commands.
M.util = {
  client_or_warn = client_or_warn, execute = execute, lsp_range = lsp_range, scratch = scratch,
  set_text = set_text, fit_height = fit_height, recently_shown = recently_shown,
}

--- `:Kura*` name -> function(command opts); plugin/kura.lua defines the commands themselves.
M.commands = {
  KuraExplain = function(o) explain(false, o) end,
  KuraExplainCloud = function(o) explain(true, o) end,
  KuraFix = function(o) fix(false, o) end,
  KuraFixCloud = function(o) fix(true, o) end,
  KuraPreview = preview,
  KuraIndex = reindex,
  KuraStatus = show_status,
  KuraToggle = toggle,
  KuraRestart = function() kura().restart() end,
  KuraLog = open_log,
  KuraAsk = function(o) require('kura.ask').ask(o.args) end,
  KuraAskCloud = function(o) require('kura.ask').ask(o.args, true) end,
  KuraGenerate = function(o) require('kura.generate').generate(o) end,
  KuraGenerateCloud = function(o) require('kura.generate').generate(o, true) end,
}

function M.run(name, opts)
  M.commands[name](opts or { range = 0, args = '' })
end

return M
