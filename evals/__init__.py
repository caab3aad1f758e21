"""kubesage room: evals."""
