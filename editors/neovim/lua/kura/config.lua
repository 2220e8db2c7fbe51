--- kura's defaults and the merged options; `require('kura').setup(opts)` deep-merges into these.
local M = {}

M.defaults = {
  -- The server command (a list). nil: `<root>/.venv/bin/kura serve`, else `kura serve` from PATH.
  cmd = nil,
  cmd_env = nil, -- extra environment for the server process
  root_markers = { '.git' },
  -- Filetypes to attach to; nil means every file buffer inside a repository except these.
  filetypes = nil,
  exclude_filetypes = { 'gitcommit', 'gitrebase', 'help', 'netrw', 'qf', 'oil', 'TelescopePrompt' },
  -- kura's own settings, the same camelCase keys as the VS Code extension (editors/vscode/package.json):
  -- e.g. { model = { path = '~/models/qwen2.5-coder-1.5b-q8_0.gguf' }, completion = { maxLines = 4 } }.
  -- Sent as initializationOptions and answered on workspace/configuration (section `kura`).
  settings = {},
  inline = {
    enabled = true,
    -- 'auto': Neovim's own vim.lsp.inline_completion where present (0.12+), else kura's extmarks.
    -- false: always kura's extmarks.
    native = 'auto',
    debounce_ms = 75,
    -- Keys in insert mode; false disables one. `accept` is not mapped when you already mapped
    -- that key yourself (nvim-cmp, snippets...): call require('kura.inline').accept() there.
    keymaps = {
      accept = '<Tab>',
      accept_word = '<M-Right>',
      accept_line = '<M-Down>',
      dismiss = '<C-]>',
      next = '<M-]>',
      prev = '<M-[>',
      suggest = '<M-\\>',
    },
  },
  explain = {
    layout = 'float', -- 'float' or 'split'
    width = 0.6, -- of the editor's columns (float) or of the window (split)
    height = 0.7,
    border = 'rounded',
  },
  fix = {
    border = 'rounded',
  },
  restart = {
    max_attempts = 5, -- crashes in a row before kura gives up
    backoff_ms = 500, -- first delay; doubles each time
    max_backoff_ms = 30000,
    healthy_after_ms = 30000, -- a server that ran this long before crashing starts a new count
  },
  status = {
    refresh_ms = 5000, -- how often the status line asks the server for `kura/status`
  },
}

M.options = vim.deepcopy(M.defaults)

local islist = vim.islist or vim.tbl_islist

-- Tables merge key by key; lists (cmd, root_markers, exclude_filetypes) are replaced whole.
local function merge(base, over)
  if type(base) ~= 'table' or type(over) ~= 'table' or islist(over) or islist(base) then
    return vim.deepcopy(over)
  end
  local out = vim.deepcopy(base)
  for k, v in pairs(over) do
    out[k] = (out[k] == nil) and vim.deepcopy(v) or merge(out[k], v)
  end
  return out
end

function M.merge(opts)
  if opts ~= nil and type(opts) ~= 'table' then
    error(('kura: setup() takes a table of options, got %s'):format(type(opts)), 3)
  end
  M.options = merge(M.defaults, opts or {})
  return M.options
end

return M
