"""kubesage room: agents."""
