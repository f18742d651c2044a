"""The result documents: where they go, what they hold, and how they are stored."""
