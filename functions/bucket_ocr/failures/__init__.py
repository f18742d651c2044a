"""Where what cannot be processed goes, so that no input is ever lost."""
