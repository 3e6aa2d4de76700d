"""Expert knowledge for the editor: static parameter and memory estimates of PyTorch modules
(`params`, `memory`), concept notes on core deep-learning APIs (`concepts`), and their
Markdown rendering for hovers (`render`). Engine-side: nothing here imports pygls."""
