"""In-memory adapters: production-quality fakes of the ports."""
