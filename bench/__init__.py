"""`make bench`: the service against the framework's floor, on one machine, in one run (see bench/__main__.py)."""
