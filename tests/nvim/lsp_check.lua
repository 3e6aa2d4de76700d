-- Headless Neovim (0.7+, Debian's) as a real LSP client of `dlx-lint server`.
-- env: DLX_PYTHON (interpreter with dlx-lint installed), DLX_SAMPLE (a .py file with a
-- finding), DLX_LINE (0-based line of the expected finding). Writes one JSON object to stdout.
local out = {}
local line = tonumber(os.getenv("DLX_LINE"))
vim.cmd("edit " .. os.getenv("DLX_SAMPLE"))
local buf = vim.api.nvim_get_current_buf()
vim.bo[buf].filetype = "python"
local id = vim.lsp.start_client({
  name = "dlx-lint",
  cmd = { os.getenv("DLX_PYTHON"), "-m", "dlx_lint", "server" },
  root_dir = vim.fn.fnamemodify(os.getenv("DLX_SAMPLE"), ":h"),
  init_options = { lintDebounceMs = 20 },
})
out.client_started = id ~= nil
vim.lsp.buf_attach_client(buf, id)
out.diag_wait_ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
out.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(out.diagnostics, { lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code, source = d.source, severity = d.severity, message = d.message })
end
-- Hover on the finding.
local uri = vim.uri_from_bufnr(buf)
local hp = { textDocument = { uri = uri }, position = { line = line, character = 14 } }
local hr = vim.lsp.buf_request_sync(buf, "textDocument/hover", hp, 10000)
for _, r in pairs(hr or {}) do out.hover = r.result and r.result.contents and r.result.contents.value end
-- Code actions for the finding's line; apply "Disable ... for this line".
local lspd = vim.lsp.diagnostic.get_line_diagnostics(buf, line)
local cp = { textDocument = { uri = uri },
  range = { start = { line = line, character = 0 }, ["end"] = { line = line, character = 0 } },
  context = { diagnostics = lspd } }
local cr = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", cp, 10000)
out.actions = {}
for _, r in pairs(cr or {}) do
  for _, a in ipairs(r.result or {}) do
    table.insert(out.actions, a.title)
    if string.find(a.title, "^Disable") then
      vim.lsp.util.apply_workspace_edit(a.edit, "utf-16")
    end
  end
end
out.line_after_action = vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1]
-- The edit makes Neovim send didChange; the suppressed finding must disappear.
out.cleared = vim.wait(20000, function() return #vim.diagnostic.get(buf) == 0 end, 50)
io.stdout:write(vim.fn.json_encode(out) .. "\n")
vim.lsp.stop_client(id)
vim.wait(5000, function() return vim.tbl_isempty(vim.lsp.get_active_clients()) end, 50)
vim.cmd("qa!")
