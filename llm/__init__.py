"""kubesage room: llm."""
