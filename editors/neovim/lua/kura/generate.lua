--- `:KuraGenerate {instruction}`: on a range, the lines rewritten as instructed; without one, new code
--- below the cursor's line (or in it, when it is blank). The model's text streams into a float
--- (`kura/generation` notifications), which then shows the diff: `a` applies it, `q` or `r` rejects
--- it. Nothing touches the buffer before `a`. `:KuraGenerateCloud` asks the cloud model (sanitized,
--- under the workspace policy).
local M = {}

local api = vim.api

-- Generations streaming, by the id this client gave them.
local streams = {} ---@type table<string, {buf: integer, text: string, done: boolean}>
local counter = 0

local function kura()
  return require('kura')
end

local function util()
  return require('kura.commands').util
end

function M.on_generation(params)
  if type(params) ~= 'table' then
    return
  end
  local s = streams[params.id]
  if not s or s.done then
    return
  end
  s.text = s.text .. (type(params.chunk) == 'string' and params.chunk or '')
  if params.done == true then
    s.done = true
  end
  util().set_text(s.buf, 'Generating…\n\n' .. s.text)
end

--- Tell the server what became of the proposal (the usage log counts accepted and rejected ones).
local function resolved(client, src, uri, id, outcome)
  util().execute(client, src, 'kura.didResolveGeneration', { { uri = uri, id = id, outcome = outcome } }, function() end)
end

local function show_proposal(client, src, buf, win, arg, result)
  local u = util()
  local enc = client.offset_encoding or 'utf-16'
  local diff = require('kura.commands').preview_diff(src, result.edit, enc)
  local header = { result.message or '', '', 'a: apply   q or r: reject', '' }
  vim.bo[buf].filetype = 'diff'
  u.set_text(buf, table.concat(header, '\n') .. diff)
  u.fit_height(win, buf)
  if api.nvim_win_is_valid(win) then
    api.nvim_win_set_cursor(win, { 1, 0 })
  end
  local answered = false
  local function reject()
    if api.nvim_win_is_valid(win) then
      api.nvim_win_close(win, true)
    end
    if not answered then
      answered = true
      resolved(client, src, arg.uri, arg.id, 'rejected')
    end
  end
  vim.keymap.set('n', 'a', function()
    answered = true
    api.nvim_win_close(win, true)
    vim.lsp.util.apply_workspace_edit(result.edit, enc)
    resolved(client, src, arg.uri, arg.id, 'accepted')
    kura().notify('kura: generated code applied')
  end, { buffer = buf, nowait = true, desc = 'kura: apply the generated code' })
  vim.keymap.set('n', 'q', reject, { buffer = buf, nowait = true, desc = 'kura: reject the generated code' })
  vim.keymap.set('n', 'r', reject, { buffer = buf, nowait = true, desc = 'kura: reject the generated code' })
end

--- `cmd_opts`: the user command's options (range, args); `cloud`: escalate under the policy.
function M.generate(cmd_opts, cloud)
  local u = util()
  local instruction = vim.trim(cmd_opts.args or '')
  if instruction == '' then
    kura().notify('kura: say what to write, e.g. :KuraGenerate add a docstring', vim.log.levels.WARN)
    return
  end
  local src = api.nvim_get_current_buf()
  local client = u.client_or_warn(src)
  if not client then
    return
  end
  counter = counter + 1
  local arg = {
    uri = vim.uri_from_bufnr(src),
    range = u.lsp_range(client, src, cmd_opts),
    instruction = instruction,
    id = ('kura-nvim-generate-%d-%d'):format(vim.fn.getpid(), counter),
  }
  local buf, win = u.scratch('markdown', cloud and 'kura: generate (cloud, sanitized)' or 'kura: generate', client.root_dir, 'float')
  u.set_text(buf, 'Generating…')
  local stream = { buf = buf, text = '', done = false }
  streams[arg.id] = stream
  u.execute(client, src, cloud and 'kura.generateCloud' or 'kura.generate', { arg }, function(result)
    stream.done = true
    streams[arg.id] = nil
    if type(result) ~= 'table' or result.edit == nil or result.edit == vim.NIL then
      local msg = type(result) == 'table' and type(result.message) == 'string' and result.message ~= '' and result.message
        or 'kura: no code was proposed.'
      u.set_text(buf, msg .. (stream.text ~= '' and ('\n\nThe model said:\n\n' .. stream.text) or ''))
      if not u.recently_shown(msg) then -- the server may have shown why already
        kura().notify(msg)
      end
      return
    end
    show_proposal(client, src, buf, win, arg, result)
  end, function(msg)
    stream.done = true
    streams[arg.id] = nil
    u.set_text(buf, msg)
  end)
end

return M
