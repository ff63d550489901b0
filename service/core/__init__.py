"""Settings and the typed errors every layer of the gateway raises."""
