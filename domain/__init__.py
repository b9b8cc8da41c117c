"""Teleconsultation domain: entities, value objects and rules. Standard library only."""
