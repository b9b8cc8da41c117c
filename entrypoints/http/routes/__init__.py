"""The HTTP routes, grouped by resource; each factory takes the use cases its handlers call."""

from entrypoints.http.routes.audit import audit_routes
from entrypoints.http.routes.calls import call_routes
from entrypoints.http.routes.company_settings import settings_routes
from entrypoints.http.routes.credentials import credentials_routes
from entrypoints.http.routes.probes import probe_routes
from entrypoints.http.routes.provider_webhooks import provider_webhook_routes
from entrypoints.http.routes.teleconsultations import teleconsultation_routes

__all__ = [
    "audit_routes",
    "call_routes",
    "credentials_routes",
    "probe_routes",
    "provider_webhook_routes",
    "settings_routes",
    "teleconsultation_routes",
]
