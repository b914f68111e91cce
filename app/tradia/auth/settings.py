"""Sign-in settings (TRADIA_AUTH and the settings of each mode), read from the environment.

`none` keeps the proxy's user header (Traefik basic auth). The other modes sign people in
themselves and keep who they are in a signed session cookie: the header is then ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

AuthMode = Literal["none", "local", "ldap", "oidc"]
# An HMAC key shorter than this is guessable offline from one cookie.
MIN_SESSION_KEY_CHARS = 32


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _read_secret(path: Path | None, name: str) -> str:
    if path is None:
        raise ValueError(f"{name} is required with this TRADIA_AUTH")
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{name} unreadable: {exc.strerror}") from exc


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    mode: AuthMode = Field("none", validation_alias=_env("TRADIA_AUTH", "mode"))

    # --- the session (every mode but none) ---
    # HMAC key of the session cookie: the same file on every app server behind the proxy.
    session_key_file: Path | None = Field(
        None, validation_alias=_env("TRADIA_SESSION_KEY_FILE", "session_key_file")
    )
    # Signed out after this long without a request, and in any case this long after signing in.
    session_idle_minutes: float = Field(
        120.0, gt=0, validation_alias=_env("TRADIA_SESSION_IDLE_MINUTES", "session_idle_minutes")
    )
    session_max_hours: float = Field(
        12.0, gt=0, validation_alias=_env("TRADIA_SESSION_MAX_HOURS", "session_max_hours")
    )
    # Failed sign-ins allowed per minute, per user name and per client address.
    login_attempts_per_minute: int = Field(
        5, ge=1, validation_alias=_env("TRADIA_LOGIN_ATTEMPTS_PER_MINUTE", "login_attempts")
    )

    # --- local ---
    # `name:bcrypt-hash` lines (htpasswd -B).
    local_users_file: Path | None = Field(
        None, validation_alias=_env("TRADIA_LOCAL_USERS_FILE", "local_users_file")
    )

    # --- ldap ---
    ldap_url: str = Field("", validation_alias=_env("TRADIA_LDAP_URL", "ldap_url"))
    ldap_starttls: bool = Field(False, validation_alias=_env("TRADIA_LDAP_STARTTLS", "starttls"))
    ldap_ca_file: Path | None = Field(None, validation_alias=_env("TRADIA_LDAP_CA_FILE", "ca"))
    ldap_bind_dn: str = Field("", validation_alias=_env("TRADIA_LDAP_BIND_DN", "bind_dn"))
    ldap_bind_password_file: Path | None = Field(
        None, validation_alias=_env("TRADIA_LDAP_BIND_PASSWORD_FILE", "bind_password_file")
    )
    ldap_search_base: str = Field("", validation_alias=_env("TRADIA_LDAP_SEARCH_BASE", "base"))
    # {username} is replaced by the escaped name: (sAMAccountName={username}) for AD.
    ldap_user_filter: str = Field(
        "(uid={username})", validation_alias=_env("TRADIA_LDAP_USER_FILTER", "user_filter")
    )
    # When set, only this group's members sign in. The group entry is read with the filter
    # ({user_dn} escaped); AD nested groups: (member:1.2.840.113556.1.4.1941:={user_dn}).
    ldap_group_dn: str = Field("", validation_alias=_env("TRADIA_LDAP_GROUP_DN", "group_dn"))
    ldap_group_filter: str = Field(
        "(|(member={user_dn})(uniqueMember={user_dn}))",
        validation_alias=_env("TRADIA_LDAP_GROUP_FILTER", "group_filter"),
    )
    ldap_timeout: float = Field(5.0, gt=0, validation_alias=_env("TRADIA_LDAP_TIMEOUT", "timeout"))

    # --- oidc ---
    oidc_issuer: str = Field("", validation_alias=_env("TRADIA_OIDC_ISSUER", "issuer"))
    oidc_client_id: str = Field("", validation_alias=_env("TRADIA_OIDC_CLIENT_ID", "client_id"))
    oidc_client_secret_file: Path | None = Field(
        None, validation_alias=_env("TRADIA_OIDC_CLIENT_SECRET_FILE", "client_secret_file")
    )
    oidc_scopes: str = Field(
        "openid profile email", validation_alias=_env("TRADIA_OIDC_SCOPES", "scopes")
    )
    oidc_username_claim: str = Field(
        "preferred_username", validation_alias=_env("TRADIA_OIDC_USERNAME_CLAIM", "user_claim")
    )
    oidc_groups_claim: str = Field(
        "groups", validation_alias=_env("TRADIA_OIDC_GROUPS_CLAIM", "groups_claim")
    )
    # Empty: anyone the provider signs in. Otherwise one of these groups is required.
    oidc_allowed_groups: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("TRADIA_OIDC_ALLOWED_GROUPS", "allowed")
    )
    oidc_provider_name: str = Field(
        "SSO", validation_alias=_env("TRADIA_OIDC_PROVIDER_NAME", "provider_name")
    )
    oidc_ca_file: Path | None = Field(None, validation_alias=_env("TRADIA_OIDC_CA_FILE", "oidc_ca"))
    oidc_timeout: float = Field(5.0, gt=0, validation_alias=_env("TRADIA_OIDC_TIMEOUT", "oidc_t"))

    @field_validator("oidc_allowed_groups", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator(
        "session_key_file",
        "local_users_file",
        "ldap_ca_file",
        "ldap_bind_password_file",
        "oidc_client_secret_file",
        "oidc_ca_file",
        mode="before",
    )
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def sessions(self) -> bool:
        """True when people sign in to the app itself (the proxy header is then ignored)."""
        return self.mode != "none"

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.sessions:
            return self
        if len(self.session_key) < MIN_SESSION_KEY_CHARS:
            raise ValueError(
                f"TRADIA_SESSION_KEY_FILE: the key must be at least {MIN_SESSION_KEY_CHARS}"
                " characters (openssl rand -hex 32)"
            )
        if self.mode == "local" and (
            self.local_users_file is None or not self.local_users_file.is_file()
        ):
            raise ValueError("TRADIA_LOCAL_USERS_FILE must name a readable file")
        if self.mode == "ldap":
            if not self.ldap_url.startswith(("ldap://", "ldaps://")):
                raise ValueError("TRADIA_LDAP_URL must start with ldap:// or ldaps://")
            if not self.ldap_search_base or "{username}" not in self.ldap_user_filter:
                raise ValueError(
                    "TRADIA_LDAP_SEARCH_BASE is required and TRADIA_LDAP_USER_FILTER must"
                    " contain {username}"
                )
            if self.ldap_bind_dn:
                _read_secret(self.ldap_bind_password_file, "TRADIA_LDAP_BIND_PASSWORD_FILE")
        if self.mode == "oidc":
            issuer_ok = self.oidc_issuer.startswith(("https://", "http://"))
            if not issuer_ok or not self.oidc_client_id:
                raise ValueError(
                    "TRADIA_OIDC_ISSUER (an URL) and TRADIA_OIDC_CLIENT_ID are required"
                )
            _read_secret(self.oidc_client_secret_file, "TRADIA_OIDC_CLIENT_SECRET_FILE")
        return self

    @property
    def session_key(self) -> str:
        return _read_secret(self.session_key_file, "TRADIA_SESSION_KEY_FILE")

    @property
    def ldap_bind_password(self) -> str:
        if not self.ldap_bind_dn:
            return ""
        return _read_secret(self.ldap_bind_password_file, "TRADIA_LDAP_BIND_PASSWORD_FILE")

    @property
    def oidc_client_secret(self) -> str:
        return _read_secret(self.oidc_client_secret_file, "TRADIA_OIDC_CLIENT_SECRET_FILE")
