"""One router per resource: transcriptions, models, health, metrics."""
