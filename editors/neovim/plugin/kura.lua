-- kura's entry point: the `:Kura*` commands. No module loads until setup() or a command runs.
if vim.g.loaded_kura then
  return
end
vim.g.loaded_kura = true

if vim.fn.has('nvim-0.10') == 0 then
  vim.api.nvim_echo({ { 'kura needs Neovim 0.10 or newer', 'WarningMsg' } }, true, {})
  return
end

local function complete(words)
  return function()
    return words
  end
end

local commands = {
  KuraExplain = { range = true, desc = 'explain the selection or the function at the cursor' },
  KuraExplainCloud = { range = true, desc = 'explain with the cloud model (sanitized)' },
  KuraFix = { range = true, desc = 'propose a fix and preview its diff' },
  KuraFixCloud = { range = true, desc = 'propose a fix with the cloud model (sanitized)' },
  KuraPreview = { range = true, nargs = '?', complete = complete({ 'explain', 'fix' }), desc = 'show what escalating would send' },
  KuraIndex = { desc = 'reindex the repository' },
  KuraStatus = { desc = 'model, index, policy and last error' },
  KuraToggle = { nargs = '?', complete = complete({ 'on', 'off' }), desc = 'completions on or off' },
  KuraRestart = { desc = 'restart the server' },
  KuraLog = { desc = 'open the LSP log' },
  KuraAsk = { nargs = '+', desc = 'ask the codebase a question; the answer cites path:line' },
  KuraAskCloud = { nargs = '+', desc = 'ask the cloud model about the codebase (sanitized, under the policy)' },
  KuraGenerate = { range = true, nargs = '+', desc = 'rewrite the range as instructed, or write new code at the cursor; diff preview' },
  KuraGenerateCloud = { range = true, nargs = '+', desc = 'generate with the cloud model (sanitized)' },
}

for name, spec in pairs(commands) do
  spec.desc = 'kura: ' .. spec.desc
  spec.force = true
  vim.api.nvim_create_user_command(name, function(o)
    require('kura.commands').run(name, o)
  end, spec)
end
