"""Entity resolution: one enterprise and one person per real-world entity."""
