--- Inline completion as ghost text, with accept (all / word / line), dismiss and next/previous.
---
--- Neovim 0.12's `vim.lsp.inline_completion` shows the suggestions where it exists; elsewhere this
--- module does it with extmarks: it asks `textDocument/inlineCompletion` after typing settles,
--- cancels the request in flight when typing goes on, and keeps a suggestion that is typed through.
local config = require('kura.config')

local M = {}

M.ns = vim.api.nvim_create_namespace('kura.inline')
local api = vim.api
local has_011 = vim.fn.has('nvim-0.11') == 1
local TRIGGER_INVOKED, TRIGGER_AUTOMATIC = 1, 2

vim.api.nvim_set_hl(0, 'KuraGhostText', { link = 'Comment', default = true })
vim.api.nvim_set_hl(0, 'KuraGhostTextHint', { link = 'NonText', default = true })

---@class kura.Suggestion
---@field text string what accepting inserts at (row, col)
---@field row integer 0-based
---@field col integer 0-based byte column
---@field uri string
---@field id any the server's completion id (for accept/dismiss reports)
---@field command table|nil the item's command, executed on a full accept

---@class kura.BufState
---@field client_id integer
---@field native boolean
---@field timer uv.uv_timer_t|nil
---@field pending {client: vim.lsp.Client, id: integer}|nil
---@field items kura.Suggestion[]
---@field index integer
---@field shown_tick integer|nil changedtick when the suggestion was drawn
---@field skip_tick integer|nil changedtick of our own insertion (no new request for it)
---@field typed string|nil characters typed through, waiting for TextChangedI
---@field cursor_timer uv.uv_timer_t|nil waits for the cursor to rest
local bufs = {} ---@type table<integer, kura.BufState>

local function kura()
  return require('kura')
end

function M.use_native()
  local native = config.options.inline.native
  return native ~= false and vim.lsp.inline_completion ~= nil
end

--- The namespace whose extmarks show the ghost text (Neovim's own on the native path).
function M.namespace()
  if M.use_native() then
    return api.nvim_get_namespaces()['nvim.lsp.inline_completion'] or M.ns
  end
  return M.ns
end

local function current(buf)
  local st = bufs[buf]
  return st and st.items[st.index] or nil
end

-- Column conversions: LSP characters (in the client's encoding) to byte columns.
local function byte_col(buf, row, character, enc)
  local line = api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
  if enc == 'utf-8' then
    return math.min(character, #line)
  end
  local ok, col
  if has_011 then
    ok, col = pcall(vim.str_byteindex, line, enc, character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, character, enc == 'utf-16')
  end
  return ok and col or #line
end

local function cursor(buf)
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    return nil
  end
  local pos = api.nvim_win_get_cursor(win)
  return pos[1] - 1, pos[2]
end

-- Turn the server's items into suggestions anchored at the cursor. A range that starts before the
-- cursor on this line covers text already typed: drop that part, or the item if it disagrees.
local function suggestions(buf, items, enc, row, col)
  local out = {}
  for _, item in ipairs(items or {}) do
    local text = type(item.insertText) == 'table' and item.insertText.value or item.insertText
    if type(text) == 'string' and item.range and item.range.start.line == row then
      local start = byte_col(buf, row, item.range.start.character, enc)
      local line = api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
      local typed = start < col and line:sub(start + 1, col) or ''
      text = text:sub(1, #typed) == typed and text:sub(#typed + 1) or nil
    end
    if type(text) == 'string' and text ~= '' then
      local args = item.command and item.command.arguments and item.command.arguments[1] or {}
      table.insert(out, {
        text = text,
        row = row,
        col = col,
        uri = args.uri or vim.uri_from_bufnr(buf),
        id = args.id,
        command = item.command,
      })
    end
  end
  return out
end

local function render(buf, hint)
  api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  local s = current(buf)
  if not s then
    return
  end
  local lines = vim.split(s.text, '\n', { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    table.insert(virt_lines, { { lines[i], 'KuraGhostText' } })
  end
  local first = { { lines[1], 'KuraGhostText' } }
  if hint then
    table.insert(#virt_lines > 0 and virt_lines[#virt_lines] or first, { hint, 'KuraGhostTextHint' })
  end
  api.nvim_buf_set_extmark(buf, M.ns, s.row, s.col, {
    virt_text = first,
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
  })
  bufs[buf].shown_tick = api.nvim_buf_get_changedtick(buf)
end

local function cancel(buf)
  local st = bufs[buf]
  if not st then
    return
  end
  if st.timer then
    st.timer:stop()
  end
  if st.pending then
    pcall(kura().call, st.pending.client, 'cancel_request', st.pending.id)
    st.pending = nil
  end
end

local function notify_server(buf, method, params)
  local client = kura().client(buf)
  if client then
    kura().call(client, 'notify', method, params)
  end
end

local function execute(buf, command)
  local client = kura().client(buf)
  if not client or not command then
    return
  end
  if client.exec_cmd then
    kura().call(client, 'exec_cmd', command, { bufnr = buf })
  else -- 0.10
    kura().call(client, 'request', 'workspace/executeCommand',
      { command = command.command, arguments = command.arguments }, function() end, buf)
  end
end

--- Hide the suggestion; `report` (a reason: 'hidden', 'typed_over', 'moved') tells the server it was dismissed.
local function clear(buf, report)
  local st = bufs[buf]
  if not st then
    return
  end
  local s = current(buf)
  if report and s and s.id ~= nil then
    notify_server(buf, 'kura/didDismissCompletion', { uri = s.uri, id = s.id, reason = report })
  end
  st.items, st.index, st.typed, st.shown_tick = {}, 1, nil, nil
  if api.nvim_buf_is_valid(buf) then
    api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  end
end

--- Ask the server for a suggestion at the cursor now.
function M.request(buf, trigger)
  buf = (buf == nil or buf == 0) and api.nvim_get_current_buf() or buf
  local st = bufs[buf]
  local client = kura().client(buf)
  if not st or not client or not api.nvim_get_mode().mode:match('^i') then
    return
  end
  cancel(buf)
  local row, col = cursor(buf)
  if not row then
    return
  end
  local tick = api.nvim_buf_get_changedtick(buf)
  local enc = client.offset_encoding or 'utf-16'
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    position = vim.lsp.util.make_position_params(vim.fn.bufwinid(buf), enc).position,
    context = { triggerKind = trigger or TRIGGER_AUTOMATIC },
  }
  local id -- set below; the handler runs later
  local function on_result(err, result)
    if st.pending and st.pending.id == id then
      st.pending = nil
    end
    local now_row, now_col = cursor(buf)
    -- A late answer for text that has changed since is useless: the next request is on its way.
    if err or not result or api.nvim_buf_get_changedtick(buf) ~= tick or now_row ~= row or now_col ~= col
      or not api.nvim_get_mode().mode:match('^i') then
      return
    end
    clear(buf, false)
    st.items = suggestions(buf, result.items or result, enc, row, col)
    st.index = 1
    render(buf)
  end
  local ok
  ok, id = kura().call(client, 'request', 'textDocument/inlineCompletion', params, on_result, buf)
  if ok and id and st.pending == nil then
    st.pending = { client = client, id = id }
  end
end

--- `kura/suggestionReady`: a suggestion finished after its request was answered empty (the
--- first-suggestion cap), or a block suggestion grew after its answer; if the user is still typing in that buffer, ask again: the server answers
--- from its cache at once. (On Neovim's native path, its own next request picks it up.)
function M.suggestion_ready(uri)
  if type(uri) ~= 'string' then
    return
  end
  local buf = vim.uri_to_bufnr(uri)
  local st = bufs[buf]
  if st and not st.native and buf == api.nvim_get_current_buf() then
    M.request(buf, TRIGGER_AUTOMATIC)
  end
end

local function schedule_request(buf)
  local st = bufs[buf]
  if not st then
    return
  end
  cancel(buf)
  st.timer = st.timer or vim.uv.new_timer()
  st.timer:start(config.options.inline.debounce_ms, 0, vim.schedule_wrap(function()
    M.request(buf, TRIGGER_AUTOMATIC)
  end))
end

-- The next word of a suggestion: leading blanks with a run of word characters or of punctuation;
-- at a line break, the break and the next line's indentation.
local function next_word(text)
  local nl_indent = text:match('^\n[ \t]*')
  if nl_indent then
    return nl_indent
  end
  return text:match('^[ \t]*[%w_]+') or text:match('^[ \t]*[^%w_%s]+') or text:match('^[ \t]+') or text
end

local function next_line(text)
  local first = text:match('^[^\n]*')
  if first ~= '' then
    return first
  end
  return text:match('^\n[^\n]*') or text
end

local function insert_at(buf, row, col, chunk)
  local lines = vim.split(chunk, '\n', { plain = true })
  api.nvim_buf_set_text(buf, row, col, row, col, lines)
  local end_row = row + #lines - 1
  local end_col = (#lines == 1 and col or 0) + #lines[#lines]
  local win = vim.fn.bufwinid(buf)
  if win ~= -1 then
    api.nvim_win_set_cursor(win, { end_row + 1, end_col })
  end
  return end_row, end_col
end

-- Extmark path: insert all or part of the current suggestion; keep the rest on screen.
local function accept_own(buf, kind)
  local st, s = bufs[buf], current(buf)
  if not s then
    return false
  end
  local chunk = kind == 'word' and next_word(s.text) or kind == 'line' and next_line(s.text) or s.text
  st.items = { s }
  st.index = 1
  local row, col = insert_at(buf, s.row, s.col, chunk)
  st.skip_tick = api.nvim_buf_get_changedtick(buf)
  if chunk == s.text then
    clear(buf, false)
    execute(buf, s.command) -- the item's command reports the acceptance
  else
    s.text, s.row, s.col = s.text:sub(#chunk + 1), row, col
    render(buf)
    if s.id ~= nil then
      notify_server(buf, 'kura/didAcceptCompletion', { uri = s.uri, id = s.id, acceptedChars = vim.fn.strchars(chunk) })
    end
  end
  return true
end

-- Native path: Neovim owns the suggestion; a partial accept inserts our chunk through on_accept.
local function accept_native(buf, kind)
  local on_accept = nil
  if kind ~= 'all' then
    on_accept = function(item)
      local text = type(item.insert_text) == 'table' and item.insert_text.value or item.insert_text
      local row, col = cursor(buf)
      if type(text) ~= 'string' or not row then
        return
      end
      local ok, start = pcall(function()
        return item.range.start.row == row and item.range.start.col or nil
      end)
      if ok and start and start < col then
        local typed = api.nvim_buf_get_lines(buf, row, row + 1, false)[1]:sub(start + 1, col)
        text = text:sub(1, #typed) == typed and text:sub(#typed + 1) or text
      end
      local chunk = kind == 'word' and next_word(text) or next_line(text)
      insert_at(buf, row, col, chunk)
      local args = item.command and item.command.arguments and item.command.arguments[1]
      if chunk == text then
        execute(buf, item.command)
      elseif args and args.id ~= nil then
        notify_server(buf, 'kura/didAcceptCompletion', { uri = args.uri, id = args.id, acceptedChars = vim.fn.strchars(chunk) })
      end
    end
  end
  return vim.lsp.inline_completion.get({ bufnr = buf, on_accept = on_accept })
end

--- Accept the suggestion: `kind` is 'all' (default), 'word' or 'line'. False when none is shown.
function M.accept(kind, buf)
  buf = (buf == nil or buf == 0) and api.nvim_get_current_buf() or buf
  local st = bufs[buf]
  if not st then
    return false
  end
  if st.native then
    return accept_native(buf, kind or 'all')
  end
  return accept_own(buf, kind or 'all')
end

--- Dismiss the suggestion and tell the server. False when none is shown.
function M.dismiss(buf)
  buf = (buf == nil or buf == 0) and api.nvim_get_current_buf() or buf
  local st = bufs[buf]
  if not st then
    return false
  end
  if st.native then
    return vim.lsp.inline_completion.get({
      bufnr = buf,
      on_accept = function(item) -- taking the item without applying it is how 0.12 dismisses
        local args = item.command and item.command.arguments and item.command.arguments[1]
        if args and args.id ~= nil then
          notify_server(buf, 'kura/didDismissCompletion', { uri = args.uri, id = args.id, reason = 'hidden' })
        end
      end,
    })
  end
  cancel(buf)
  if not current(buf) then
    return false
  end
  clear(buf, 'hidden')
  return true
end

--- Show the next (`step` 1) or previous (-1) suggestion.
function M.cycle(step, buf)
  buf = (buf == nil or buf == 0) and api.nvim_get_current_buf() or buf
  local st = bufs[buf]
  if not st then
    return
  end
  if st.native then
    vim.lsp.inline_completion.select({ bufnr = buf, count = step })
    return
  end
  local n = #st.items
  if n == 0 then
    M.request(buf, TRIGGER_INVOKED)
    return
  end
  st.index = (st.index - 1 + step) % n + 1
  render(buf, n > 1 and (' (%d/%d)'):format(st.index, n) or nil)
end

--- Whether a suggestion is on screen (the extmark path knows; the native one shows extmarks).
function M.visible(buf)
  buf = (buf == nil or buf == 0) and api.nvim_get_current_buf() or buf
  local st = bufs[buf]
  if not st then
    return false
  end
  if st.native then
    return #api.nvim_buf_get_extmarks(buf, M.namespace(), 0, -1, { limit = 1 }) > 0
  end
  return current(buf) ~= nil
end

--- The suggestion's text as it would be inserted (extmark path), else as displayed.
function M.text(buf)
  buf = (buf == nil or buf == 0) and api.nvim_get_current_buf() or buf
  local s = current(buf)
  if s then
    return s.text
  end
  local parts = {}
  for _, m in ipairs(api.nvim_buf_get_extmarks(buf, M.namespace(), 0, -1, { details = true })) do
    local d = m[4]
    local line = {}
    for _, chunk in ipairs(d.virt_text or {}) do
      table.insert(line, chunk[1])
    end
    table.insert(parts, table.concat(line))
    for _, vl in ipairs(d.virt_lines or {}) do
      local l = {}
      for _, chunk in ipairs(vl) do
        table.insert(l, chunk[1])
      end
      table.insert(parts, table.concat(l))
    end
  end
  return #parts > 0 and table.concat(parts, '\n') or nil
end

-- Neovim's own default mappings (0.11's <Tab> for snippets) are not the user's: kura maps over
-- them and falls back to them.
local function is_default(m)
  if not m.callback then
    return false
  end
  local info = debug.getinfo(m.callback, 'S')
  return info ~= nil and info.source:match('vim/_defaults%.lua$') ~= nil
end

-- The mapping `lhs` has now in insert mode in `buf` (buffer-local first), or nil.
local function existing_map(lhs, buf)
  local m = api.nvim_buf_call(buf, function()
    return vim.fn.maparg(lhs, 'i', false, true)
  end)
  return (type(m) == 'table' and next(m) ~= nil) and m or nil
end

local function map(buf, lhs, desc, fn)
  if not lhs then
    return
  end
  local prev = existing_map(lhs, buf)
  if prev and not (prev.desc or ''):match('^kura') and not is_default(prev) then
    return -- the user's own mapping wins; they can call require('kura.inline').accept() from it
  end
  local fallback = prev and is_default(prev) and prev.expr == 1 and prev.callback or nil
  -- An expr mapping keeps the key's own meaning when no suggestion is shown; the edit itself
  -- happens just after, outside the expression's textlock.
  vim.keymap.set('i', lhs, function()
    if fn(true) then
      vim.schedule(function()
        fn(false)
      end)
      return ''
    end
    if fallback then
      return fallback()
    end
    return lhs
  end, { buffer = buf, expr = true, replace_keycodes = true, desc = 'kura: ' .. desc })
end

local function set_keymaps(buf)
  local keys = config.options.inline.keymaps or {}
  local function when_visible(action)
    return function(probe)
      if probe then
        return M.visible(buf)
      end
      action()
    end
  end
  map(buf, keys.accept, 'accept the suggestion', when_visible(function()
    M.accept('all', buf)
  end))
  map(buf, keys.accept_word, 'accept the next word', when_visible(function()
    M.accept('word', buf)
  end))
  map(buf, keys.accept_line, 'accept the next line', when_visible(function()
    M.accept('line', buf)
  end))
  map(buf, keys.dismiss, 'dismiss the suggestion', when_visible(function()
    M.dismiss(buf)
  end))
  local function always(action)
    return function(probe)
      if probe then
        return true
      end
      action()
    end
  end
  map(buf, keys.next, 'next suggestion', always(function()
    M.cycle(1, buf)
  end))
  map(buf, keys.prev, 'previous suggestion', always(function()
    M.cycle(-1, buf)
  end))
  map(buf, keys.suggest, 'suggest now', always(function()
    M.request(buf, TRIGGER_INVOKED)
  end))
end

local function own_autocmds(buf)
  local group = api.nvim_create_augroup('kura.inline.' .. buf, { clear = true })
  local function on(events, fn)
    api.nvim_create_autocmd(events, { group = group, buffer = buf, callback = fn })
  end
  on('InsertCharPre', function()
    local s = current(buf)
    local st = bufs[buf]
    local typed = (st.typed or '') .. vim.v.char
    if s and s.text:sub(1, #typed) == typed then
      if #typed < #s.text then
        st.typed = typed -- typed through: the suggestion stays, TextChangedI trims it
      else
        cancel(buf)
        clear(buf, false) -- typed all of it
      end
    else
      cancel(buf)
      clear(buf, s ~= nil and 'typed_over')
    end
  end)
  on('TextChangedI', function()
    local st = bufs[buf]
    local tick = api.nvim_buf_get_changedtick(buf)
    if st.skip_tick == tick then
      return
    end
    local s = current(buf)
    if s and st.typed then
      local row, col = cursor(buf)
      local expect_col = s.col + #st.typed
      if row == s.row and col == expect_col then
        s.text, s.col, st.typed = s.text:sub(#st.typed + 1), col, nil
        render(buf)
        return
      end
      clear(buf, 'typed_over')
    elseif s then
      clear(buf, 'typed_over') -- an edit that did not come through InsertCharPre (<BS>, <C-w>, paste)
    end
    schedule_request(buf)
  end)
  on('CursorMovedI', function()
    local st, s = bufs[buf], current(buf)
    -- Typing also moves the cursor; only a pure motion (same text) leaves the suggestion behind.
    if s and not st.typed and st.shown_tick == api.nvim_buf_get_changedtick(buf) then
      local row, col = cursor(buf)
      if row ~= s.row or col ~= s.col then
        cancel(buf)
        clear(buf, 'moved')
      end
    end
  end)
  on({ 'InsertLeave', 'BufLeave' }, function()
    cancel(buf)
    clear(buf, current(buf) ~= nil and 'closed')
  end)
  on('BufUnload', function()
    M.detach(buf)
  end)
end

--- How long the cursor rests before the server is told (a warm-up costs a prompt evaluation).
M.CURSOR_REST_MS = 300

--- `kura/cursorMoved` when the cursor rests: the server prefills the prompt a completion there would
--- send, so that the first suggestion does not start from a cold cache.
local function cursor_autocmds(buf)
  local group = api.nvim_create_augroup('kura.cursor.' .. buf, { clear = true })
  api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI', 'BufEnter' }, {
    group = group,
    buffer = buf,
    callback = function()
      local st = bufs[buf]
      if not st then
        return
      end
      st.cursor_timer = st.cursor_timer or vim.uv.new_timer()
      st.cursor_timer:start(M.CURSOR_REST_MS, 0, vim.schedule_wrap(function()
        local client = kura().client(buf)
        if not client or not api.nvim_buf_is_valid(buf) or buf ~= api.nvim_get_current_buf() then
          return
        end
        local enc = client.offset_encoding or 'utf-16'
        local pos = vim.lsp.util.make_position_params(vim.fn.bufwinid(buf), enc).position
        notify_server(buf, 'kura/cursorMoved', { uri = vim.uri_from_bufnr(buf), position = pos })
      end))
    end,
  })
end

function M.attach(buf, client)
  local opts = config.options.inline
  if not opts.enabled or bufs[buf] then
    return
  end
  local native = M.use_native()
  bufs[buf] = { client_id = client.id, native = native, items = {}, index = 1 }
  if native then
    vim.lsp.inline_completion.enable(true, { bufnr = buf })
  else
    own_autocmds(buf)
  end
  cursor_autocmds(buf)
  set_keymaps(buf)
end

function M.detach(buf)
  local st = bufs[buf]
  if not st then
    return
  end
  cancel(buf)
  for _, timer in pairs({ st.timer or false, st.cursor_timer or false }) do
    if timer and not timer:is_closing() then
      timer:close()
    end
  end
  if api.nvim_buf_is_valid(buf) then
    api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
    pcall(api.nvim_del_augroup_by_name, 'kura.inline.' .. buf)
    pcall(api.nvim_del_augroup_by_name, 'kura.cursor.' .. buf)
    local keys = config.options.inline.keymaps or {}
    for _, lhs in pairs(keys) do
      if lhs then
        local m = api.nvim_buf_call(buf, function()
          return vim.fn.maparg(lhs, 'i', false, true)
        end)
        if type(m) == 'table' and m.buffer == 1 and (m.desc or ''):match('^kura') then
          pcall(vim.keymap.del, 'i', lhs, { buffer = buf })
        end
      end
    end
  end
  if st.native and vim.lsp.inline_completion then
    pcall(vim.lsp.inline_completion.enable, false, { bufnr = buf })
  end
  bufs[buf] = nil
end

--- Turn ghost text on or off in every attached buffer (the server is told by `:KuraToggle`).
function M.set_enabled(enabled)
  config.options.inline.enabled = enabled
  if enabled then
    for _, c in ipairs(vim.lsp.get_clients({ name = 'kura' })) do
      for buf in pairs(c.attached_buffers or {}) do
        M.attach(buf, c)
      end
    end
  else
    for buf in pairs(vim.deepcopy(bufs)) do
      M.detach(buf)
    end
  end
end

return M
