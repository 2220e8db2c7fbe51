-- The Neovim config `make run` (scripts/run-neovim.sh) starts with: kura's plugin and nothing of
-- the user's, so a newcomer sees ghost text and can run :KuraExplain at once.
-- The script passes: KURA_PLUGIN (this plugin), KURA_CMD (JSON list: the server command),
-- KURA_SETTINGS (JSON: kura settings), KURA_SMOKE=1 (headless: check, print, quit).
local plugin = assert(vim.env.KURA_PLUGIN, 'KURA_PLUGIN is not set')
vim.opt.runtimepath:prepend(plugin)

vim.o.number = true
vim.o.signcolumn = 'yes'
vim.o.termguicolors = true
vim.o.laststatus = 2
vim.o.swapfile = false
vim.o.statusline = " %f %m%=%{v:lua.require'kura.status'.statusline()}   %l:%c "

local function json(name, default)
  local raw = vim.env[name]
  if raw == nil or raw == '' then
    return default
  end
  return vim.json.decode(raw)
end

local settings = json('KURA_SETTINGS', {})
if vim.env.KURA_SMOKE == '1' then
  -- The smoke check waits for its one suggestion however long a cold model on a small machine takes.
  settings.completion = vim.tbl_extend('force', settings.completion or {}, { firstSuggestionTimeoutMs = 0 })
end
require('kura').setup({
  cmd = json('KURA_CMD', nil),
  settings = settings,
})

local welcome = 'kura: type for ghost text, <Tab> accepts · :KuraExplain · :KuraStatus · :checkhealth kura'

if vim.env.KURA_SMOKE ~= '1' then
  vim.api.nvim_create_autocmd('VimEnter', {
    callback = function()
      vim.defer_fn(function()
        -- One line, or Neovim would ask to press ENTER.
        vim.api.nvim_echo({ { welcome:sub(1, vim.o.columns - 15), 'MoreMsg' } }, false, {})
      end, 200)
    end,
  })
  return
end

-- Smoke check (no terminal): the file's buffer gets a kura server that answers kura/status.
vim.api.nvim_create_autocmd('VimEnter', {
  callback = function()
    local function out(line)
      io.stdout:write(line .. '\n')
    end
    local messages = {}
    vim.notify = function(msg)
      table.insert(messages, tostring(msg))
    end
    local kura = require('kura')
    local timeout = tonumber(vim.env.KURA_SMOKE_TIMEOUT_MS) or 60000
    local ok = vim.wait(timeout, function()
      local c = kura.client(0)
      return c ~= nil and c.initialized == true
    end, 200)
    local status
    if ok then
      local c = kura.client(0)
      local r = kura.call(c, 'request_sync', 'kura/status', vim.empty_dict(), 10000, 0)
      status = r and r.result
    end
    if not status then
      out('smoke check FAILED: no kura server answered for ' .. vim.api.nvim_buf_get_name(0))
      for _, m in ipairs(messages) do
        out('  ' .. m)
      end
      vim.cmd('cquit 1')
      return
    end
    local model = require('kura.status').model_info(status)
    local index = status.index or {}
    out(('smoke check: kura %s, model %s (%s), index %s with %s files'):format(
      tostring(status.version), tostring(model.name), tostring(model.state), tostring(index.state), tostring(index.files)))
    -- Then what a newcomer came for: ghost text, asked for as the editor does at the end of a line
    -- inside a function (a few lines, in case the model has nothing to add to one).
    local c = kura.client(0)
    local lines = vim.api.nvim_buf_get_lines(0, 0, 400, false)
    local tried = 0
    for i = #lines, 1, -1 do
      local text = lines[i]
      if tried < 4 and text:match('^%s+%S') and #vim.trim(text) > 12 and not text:match('^%s*[#/%*"\']') then
        tried = tried + 1
        local params = {
          textDocument = { uri = vim.uri_from_bufnr(0) },
          position = { line = i - 1, character = #text },
          context = { triggerKind = 1 },
        }
        local r = kura.call(c, 'request_sync', 'textDocument/inlineCompletion', params, 180000, 0)
        if not r or r.err then
          out('smoke check FAILED: the completion request failed: ' .. vim.inspect(r and r.err or 'timeout'))
          vim.cmd('cquit 1')
          return
        end
        local items = r.result and (r.result.items or r.result) or {}
        local suggestion = items[1] and items[1].insertText
        if type(suggestion) == 'table' then
          suggestion = suggestion.value
        end
        if type(suggestion) == 'string' and vim.trim(suggestion) ~= '' then
          local first = vim.split(suggestion, '\n', { plain = true })
          local shown = first[1] .. (#first > 1 and (' … (+%d lines)'):format(#first - 1) or '')
          out(('smoke check ok: completion at %s:%d: %s'):format(vim.fn.expand('%:t'), i, vim.trim(text) .. ' ⟨' .. shown .. '⟩'))
          vim.cmd('qall!')
          return
        end
      end
    end
    out('smoke check FAILED: the model suggested nothing at ' .. tried .. ' line ends')
    vim.cmd('cquit 1')
  end,
})
