"""The JSON configuration file (TELECONSULTATION_SERVICE_CONFIG_PATH), validated at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from domain.privileges import PrivilegePolicy
from entrypoints.settings import ConfigurationError

GroupName = Annotated[str, msgspec.Meta(min_length=1)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class PrivilegeConfig(_Strict, frozen=True):
    groups: list[GroupName]
    tools: dict[str, bool] | None = None


class PrivilegesConfig(_Strict, frozen=True):
    basic: PrivilegeConfig
    plus: PrivilegeConfig


class PaletteConfig(_Strict, frozen=True):
    primaryColor: str | None = None
    accentColor: str | None = None


class ThemeConfig(_Strict, frozen=True):
    light: PaletteConfig | None = None
    dark: PaletteConfig | None = None


class CompanyLogoConfig(_Strict, frozen=True):
    url: str | None = None


class PathStep(_Strict, frozen=True):
    from_: Literal["object", "json", "array"] = msgspec.field(name="from")
    extract: str | int


class CustomUserIdConfig(_Strict, frozen=True):
    source: str = "_id"
    target: str = "authUserId"


_DEFAULT_TOOLS = {
    tool: True
    for tool in (
        "chat",
        "screen_sharing",
        "file_upload",
        "whiteboard",
        "snapshot",
        "live_edit",
        "live_pointer",
        "present_to_everyone",
    )
}


class ServiceConfig(_Strict, frozen=True):
    privileges: PrivilegesConfig
    theme: ThemeConfig | None = None
    companyLogo: CompanyLogoConfig | None = None
    groupsWithBackgroundList: list[str] = msgspec.field(default_factory=list)
    userIdPathInRequest: list[PathStep] | None = None
    customUserId: CustomUserIdConfig = CustomUserIdConfig()
    settingsAdminGroups: list[str] | None = None
    # Who may create, change and cancel teleconsultations; see entrypoints/authorization.py for the defaults.
    schedulingGroups: list[GroupName] | None = None
    # Who may read the event log (GET /audit/events); nobody when unset.
    auditorGroups: list[str] | None = None
    # Legacy 1.x keys, accepted and ignored: the Kaleyra environment now comes from BANDYER_BASE_URL.
    environment: Literal["sandbox", "production"] | None = None
    mode: str | None = None

    def settings_admin_groups(self) -> frozenset[str]:
        """Who may change company settings: the configured groups, by default the plus groups."""
        groups = self.settingsAdminGroups if self.settingsAdminGroups is not None else self.privileges.plus.groups
        return frozenset(groups)

    def scheduling_groups(self) -> frozenset[str] | None:
        """The configured scheduling groups; None when the key is absent."""
        return None if self.schedulingGroups is None else frozenset(self.schedulingGroups)

    def auditor_groups(self) -> frozenset[str]:
        return frozenset(self.auditorGroups or ())

    def background_groups(self) -> frozenset[str]:
        return frozenset(self.groupsWithBackgroundList)

    def privilege_policy(self) -> PrivilegePolicy:
        return PrivilegePolicy(
            basic_groups=frozenset(self.privileges.basic.groups),
            plus_groups=frozenset(self.privileges.plus.groups),
            basic_tools=self.privileges.basic.tools,
            plus_tools=self.privileges.plus.tools,
        )


DEFAULT_CONFIG = ServiceConfig(
    privileges=PrivilegesConfig(
        basic=PrivilegeConfig(groups=["patient"], tools=dict(_DEFAULT_TOOLS)),
        plus=PrivilegeConfig(groups=["doctor"], tools=dict(_DEFAULT_TOOLS)),
    ),
    theme=ThemeConfig(
        light=PaletteConfig(primaryColor="#ffffff", accentColor="#480ca8"),
        dark=PaletteConfig(primaryColor="#003049", accentColor="#d62828"),
    ),
    companyLogo=CompanyLogoConfig(url="https://www.insert.url.it"),
)


def load_service_config(path: Path | None) -> ServiceConfig:
    """Read and validate the file; no path means the documented default configuration."""
    if path is None:
        return DEFAULT_CONFIG
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigurationError(
            f"TELECONSULTATION_SERVICE_CONFIG_PATH: cannot read {path}: {error.strerror}"
        ) from None
    try:
        config = msgspec.json.decode(raw, type=ServiceConfig)
    except msgspec.ValidationError as error:
        raise ConfigurationError(f"TELECONSULTATION_SERVICE_CONFIG_PATH: {path}: {error}") from None
    except msgspec.DecodeError as error:
        raise ConfigurationError(f"TELECONSULTATION_SERVICE_CONFIG_PATH: {path} is not valid JSON: {error}") from None
    if config.userIdPathInRequest is not None and (
        not config.userIdPathInRequest or config.userIdPathInRequest[0].from_ != "object"
    ):
        raise ConfigurationError(
            f"TELECONSULTATION_SERVICE_CONFIG_PATH: {path}: userIdPathInRequest must start with an 'object' step"
        )
    return config
