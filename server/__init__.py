"""kubesage room: server."""
