"""The authorization policy as the settings and the JSON configuration make it, and what start-up warns about."""

from __future__ import annotations

from application.authorization import AuthorizationPolicy
from entrypoints.service_config import ServiceConfig
from entrypoints.settings import IdentitySettings

OPEN_SCHEDULING_WARNING = (
    "schedulingGroups is not configured and AUTH_MODE=headers: anyone the gateway lets through may create, change "
    "and cancel teleconsultations; restrict these routes at the gateway, or set schedulingGroups"
)


def authorization_policy(identity: IdentitySettings, config: ServiceConfig) -> AuthorizationPolicy:
    """`schedulingGroups` when configured. Without it, headers mode keeps the original's behaviour (the gateway
    decides who schedules) and jwt mode lets the plus groups schedule, and tokens with AUTH_JWT_SCHEDULING_SCOPE."""
    scheduling_groups = config.scheduling_groups()
    if scheduling_groups is None and identity.auth_mode == "jwt":
        scheduling_groups = frozenset(config.privileges.plus.groups)
    return AuthorizationPolicy(
        scheduling_groups=scheduling_groups,
        scheduling_scopes=frozenset({identity.scheduling_scope} if identity.scheduling_scope else ()),
        settings_admin_groups=config.settings_admin_groups(),
        auditor_groups=config.auditor_groups(),
    )


def authorization_warnings(identity: IdentitySettings, config: ServiceConfig) -> list[str]:
    """One line per way the configuration leaves the service more open than the policy could make it."""
    if authorization_policy(identity, config).scheduling_is_open:
        return [OPEN_SCHEDULING_WARNING]
    return []
