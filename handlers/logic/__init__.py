"""Each consumer's side effect, apart from the entry points and the shared runtime."""
