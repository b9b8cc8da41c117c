"""Use cases of the teleconsultation service and the ports they need."""
