"""Builds the bundled demo model's corpus (a script folder, not part of the installed library)."""
