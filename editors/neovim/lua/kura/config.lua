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

-- What each option may be, as `vim.validate` checks it: a type name, a list of them, or a function
-- and what it expects. A nested table of these is a map of options: it merges key by key, so
-- `setup({})` keeps every default. An option whose value is a table itself (`cmd`, `root_markers`,
-- `settings`...) is replaced whole by what the user gives, an empty list included.
local islist = vim.islist or vim.tbl_islist

local function list_of_strings(v)
  if type(v) ~= 'table' or not islist(v) then
    return false
  end
  for _, item in ipairs(v) do
    if type(item) ~= 'string' then
      return false
    end
  end
  return true
end

local function option(validator, expected)
  expected = expected or (type(validator) == 'table' and table.concat(validator, ' or ') or validator)
  return { option = true, validator = validator, expected = expected }
end

local function show(value)
  return vim.inspect(value, { newline = ' ', indent = '' })
end

local function number_at_least(min)
  return option(function(v)
    return type(v) == 'number' and v >= min
  end, ('a number >= %d'):format(min))
end

local function one_of(...)
  local allowed = { ... }
  local shown = vim.tbl_map(show, allowed)
  return option(function(v)
    return vim.tbl_contains(allowed, v)
  end, table.concat(shown, ' or '))
end

local key = option(function(v)
  return v == false or (type(v) == 'string' and v ~= '')
end, 'a key such as "<Tab>", or false')

local border = option({ 'string', 'table' })

M.schema = {
  cmd = option(function(v)
    return (type(v) == 'string' and v ~= '') or (list_of_strings(v) and #v > 0)
  end, "a command list such as { 'kura', 'serve' }"),
  cmd_env = option('table'),
  root_markers = option(function(v)
    return list_of_strings(v) and #v > 0
  end, "a non-empty list of file names such as { '.git' }"),
  filetypes = option(list_of_strings, 'a list of filetypes'),
  exclude_filetypes = option(list_of_strings, 'a list of filetypes'),
  settings = option(function(v)
    return type(v) == 'table' and (next(v) == nil or not islist(v))
  end, "a table of kura's settings such as { model = { path = '...' } }"),
  inline = {
    enabled = option('boolean'),
    native = option(function(v)
      return v == false or v == true or v == 'auto'
    end, "'auto' or false"),
    debounce_ms = number_at_least(0),
    keymaps = {
      accept = key,
      accept_word = key,
      accept_line = key,
      dismiss = key,
      next = key,
      prev = key,
      suggest = key,
    },
  },
  explain = {
    layout = one_of('float', 'split'),
    width = option(function(v)
      return type(v) == 'number' and v > 0
    end, 'a number > 0 (a fraction, or columns)'),
    height = option(function(v)
      return type(v) == 'number' and v > 0
    end, 'a number > 0 (a fraction, or lines)'),
    border = border,
  },
  fix = {
    border = border,
  },
  restart = {
    max_attempts = number_at_least(0),
    backoff_ms = number_at_least(0),
    max_backoff_ms = number_at_least(0),
    healthy_after_ms = number_at_least(0),
  },
  status = {
    refresh_ms = number_at_least(100),
  },
}

-- `vim.validate(name, value, validator, optional, message)` is 0.11's form; 0.10 has only the table
-- one. Its own message shows a table as `table: 0x…`, so the problem is worded here.
local function validate(name, value, spec)
  local ok
  if vim.fn.has('nvim-0.11') == 1 then
    ok = pcall(vim.validate, name, value, spec.validator, false, spec.expected)
  else
    ok = pcall(vim.validate, { [name] = { value, spec.validator, spec.expected } })
  end
  return ok, not ok and ('%s: expected %s, got %s'):format(name, spec.expected, show(value)) or nil
end

local function sorted_keys(t)
  local keys = vim.tbl_keys(t)
  table.sort(keys, function(a, b)
    return tostring(a) < tostring(b)
  end)
  return keys
end

-- Merges `given` into `defaults` under `schema`, appending one line per bad option to `problems`;
-- a bad option keeps its default.
local function merge(path, schema, defaults, given, problems)
  local out = vim.deepcopy(defaults)
  if given == nil then
    return out
  end
  if type(given) ~= 'table' or (next(given) ~= nil and islist(given)) then
    table.insert(problems, ('%s: expected a table of options, got %s (the defaults are used)'):format(path, show(given)))
    return out
  end
  for _, k in ipairs(sorted_keys(given)) do
    local v = given[k]
    local name = path == '' and tostring(k) or (path .. '.' .. tostring(k))
    local spec = schema[k]
    if spec == nil then
      table.insert(problems, ('%s: not an option of kura (ignored)'):format(name))
    elseif spec.option then
      local ok, err = validate(name, v, spec)
      if ok then
        out[k] = vim.deepcopy(v)
      else
        table.insert(problems, ('%s (the default, %s, is used)'):format(err, show(defaults[k])))
      end
    else
      out[k] = merge(name, spec, defaults[k], v, problems)
    end
  end
  return out
end

--- The defaults with `opts` merged in, and what was wrong with `opts` (one line per bad option).
---@return table options, string[] problems
function M.resolve(opts)
  local problems = {}
  if opts ~= nil and type(opts) ~= 'table' then
    table.insert(problems, ('setup() takes a table of options, got %s (the defaults are used)'):format(show(opts)))
    opts = nil
  end
  return merge('', M.schema, M.defaults, opts, problems), problems
end

--- Sets `M.options` from `setup(opts)`; bad options are named in one message and keep their defaults.
function M.merge(opts)
  local options, problems = M.resolve(opts)
  M.options = options
  if #problems > 0 then
    local lines = table.concat(problems, '\n  ')
    vim.notify('kura: bad options in setup():\n  ' .. lines, vim.log.levels.WARN, { title = 'kura' })
  end
  return M.options
end

return M
