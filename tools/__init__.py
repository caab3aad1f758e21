"""kubesage room: tools."""
