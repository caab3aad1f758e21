"""kubesage room: tui."""
