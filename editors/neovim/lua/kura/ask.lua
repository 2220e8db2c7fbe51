--- `:KuraAsk {question}`: ask the codebase. The answer streams into a float (`kura/answer`
--- notifications); its citations are `path:line`, opened with <CR> or gf on them, and the quickfix
--- list holds them all (:copen). `:KuraAskCloud {question}` asks the cloud model under the workspace
--- policy (what is found locally is sanitized and sent; confidential files never are).
local config = require('kura.config')

local M = {}

local api = vim.api

-- Answers streaming, by the id this client gave the question.
local streams = {} ---@type table<string, {buf: integer, text: string, done: boolean}>
local counter = 0

local function kura()
  return require('kura')
end

--- The kura client to ask: the current buffer's, else the only (first) one running.
local function client_for(buf)
  local client = kura().client(buf)
  if client then
    return client
  end
  return vim.lsp.get_clients({ name = kura().name })[1]
end

local function set_text(buf, text)
  if not api.nvim_buf_is_valid(buf) then
    return
  end
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, '\n', { plain = true }))
  vim.bo[buf].modifiable = false
end

--- The `path:line` at the cursor (or the first on its line): path, line; nil when there is none.
function M.citation_at(line, col)
  local first
  local init = 1
  while true do
    local s, e, path, lnum = line:find('([%w_%./%-]+%.%w+):(%d+)', init)
    if not s then
      break
    end
    first = first or { path, tonumber(lnum) }
    if col + 1 >= s and col + 1 <= e then
      return path, tonumber(lnum)
    end
    init = e + 1
  end
  if first then
    return first[1], first[2]
  end
end

--- Open the citation under the cursor in the window the question was asked from.
local function open_citation(buf)
  local root = vim.b[buf].kura_root
  local cursor = api.nvim_win_get_cursor(0)
  local line = api.nvim_buf_get_lines(buf, cursor[1] - 1, cursor[1], false)[1] or ''
  local path, lnum = M.citation_at(line, cursor[2])
  if not path then
    kura().notify('kura: no path:line on this line', vim.log.levels.WARN)
    return
  end
  local file = (root and not path:match('^/')) and (root .. '/' .. path) or path
  if vim.fn.filereadable(file) == 0 then
    kura().notify('kura: cannot open ' .. file, vim.log.levels.WARN)
    return
  end
  local from = vim.b[buf].kura_from_win
  api.nvim_win_close(0, true)
  if from and api.nvim_win_is_valid(from) then
    api.nvim_set_current_win(from)
  end
  vim.cmd.edit(vim.fn.fnameescape(file))
  api.nvim_win_set_cursor(0, { math.max(1, math.min(lnum, api.nvim_buf_line_count(0))), 0 })
  vim.cmd('normal! zz')
end

local function float(title, root)
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = 'markdown'
  vim.b[buf].kura_root = root
  vim.b[buf].kura_from_win = api.nvim_get_current_win()
  local opts = config.options.explain
  local width = math.max(math.floor(vim.o.columns * opts.width), math.min(60, vim.o.columns - 4))
  local height = math.max(math.floor(vim.o.lines * opts.height), 5)
  local win = api.nvim_open_win(buf, true, {
    relative = 'editor',
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    style = 'minimal',
    border = opts.border,
    title = ' ' .. title .. ' ',
    title_pos = 'center',
  })
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].conceallevel = 0 -- the backticks around `path:line` stay visible: they are what to open
  local map = function(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, desc = 'kura: ' .. desc })
  end
  map('q', '<Cmd>close<CR>', 'close')
  map('<CR>', function() open_citation(buf) end, 'open the cited path:line')
  map('gf', function() open_citation(buf) end, 'open the cited path:line')
  return buf, win
end

--- The citations as the quickfix list (title "kura: <question>"); returns how many.
local function set_quickfix(question, citations, root)
  local items = {}
  for _, c in ipairs(citations) do
    if type(c) == 'table' and type(c.path) == 'string' then
      local file = c.uri and vim.uri_to_fname(c.uri) or (root and root .. '/' .. c.path) or c.path
      local what = (type(c.symbol) == 'string' and c.symbol ~= '') and (c.symbol .. ' (' .. tostring(c.kind) .. ')') or tostring(c.kind)
      table.insert(items, { filename = file, lnum = tonumber(c.line) or 1, col = 1, text = what })
    end
  end
  vim.fn.setqflist({}, ' ', { title = 'kura: ' .. question, items = items })
  return #items
end

--- A `kura/answer` notification.
function M.on_answer(params)
  if type(params) ~= 'table' then
    return
  end
  local s = streams[params.id]
  if not s or s.done then
    return
  end
  s.text = s.text .. (params.chunk or '')
  set_text(s.buf, s.text ~= '' and s.text or '_Searching the code…_')
end

function M.ask(question, cloud)
  question = vim.trim(question or '')
  if question == '' then
    kura().notify('kura: usage: :KuraAsk {question}', vim.log.levels.WARN)
    return
  end
  local src = api.nvim_get_current_buf()
  local client = client_for(src)
  if not client then
    kura().notify('kura: no kura server is running; open a file in a repository first (see :KuraStatus)', vim.log.levels.WARN)
    return
  end
  counter = counter + 1
  local id = ('kura-ask-nvim-%d-%d'):format(vim.fn.getpid(), counter)
  local buf = float((cloud and 'kura ☁️ (sanitized): ' or 'kura: ') .. question, client.root_dir)
  local stream = { buf = buf, text = '', done = false }
  streams[id] = stream
  set_text(buf, '_Searching the code…_')
  local args = { command = cloud and 'kura.askCloud' or 'kura.ask', arguments = { { question = question, id = id } } }
  kura().call(client, 'request', 'workspace/executeCommand', args, function(err, result)
    vim.schedule(function()
      stream.done = true
      streams[id] = nil
      if err or type(result) ~= 'table' then
        local msg = 'kura: kura.ask failed: ' .. (err and (err.message or vim.inspect(err)) or 'no answer')
        set_text(buf, stream.text .. (stream.text ~= '' and '\n\n' or '') .. '**' .. msg .. '**')
        kura().notify(msg, vim.log.levels.WARN)
        return
      end
      if type(result.error) == 'string' and result.error ~= '' and (result.markdown or '') == '' then
        set_text(buf, '**' .. result.error .. '**')
        return
      end
      local text = type(result.markdown) == 'string' and result.markdown or stream.text
      local cited = set_quickfix(question, type(result.citations) == 'table' and result.citations or {}, client.root_dir)
      if cited > 0 then
        text = text .. '\n\n_<CR> or gf on a `path:line` opens it; :copen lists them._'
      end
      set_text(buf, text)
    end)
  end, src)
end

return M
