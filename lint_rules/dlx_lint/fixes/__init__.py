"""Fixes: what a rule proposes (`spec`), helpers rules build proposals with (`helpers`), how
the engine turns a proposal into text edits (`build`), how edits are applied to a text
(`apply`), to notebook cells (`notebook`) and to files on disk (`files`). The fix-until-stable
loop is `dlx_lint.fixer`.
"""
