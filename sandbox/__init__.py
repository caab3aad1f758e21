"""kubesage room: sandbox."""
