"""kubesage room: memory."""
