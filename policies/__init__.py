"""kubesage room: policies."""
