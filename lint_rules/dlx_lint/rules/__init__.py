"""One module per rule; `dlx_lint.registry` discovers them."""
