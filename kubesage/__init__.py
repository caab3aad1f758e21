"""kubesage room: kubesage."""
