"""What the sign-in routes share for the app's life: the configured way to check people, and
the failed sign-ins count."""

from __future__ import annotations

from tradia.auth.ldap_directory import LdapDirectory
from tradia.auth.local_accounts import LocalAccounts
from tradia.auth.oidc_client import OidcProvider
from tradia.auth.rate_limit import FailedLoginLimiter
from tradia.auth.settings import AuthSettings


class SignIn:
    def __init__(self, auth: AuthSettings, user_header: str) -> None:
        self.auth = auth
        self.user_header = user_header
        self.limiter = FailedLoginLimiter(auth.login_attempts_per_minute)
        self.local = LocalAccounts(auth.local_users_file) if auth.mode == "local" else None
        self.ldap = LdapDirectory(auth) if auth.mode == "ldap" else None
        self.oidc = OidcProvider(auth) if auth.mode == "oidc" else None
