"""Sign-in against an LDAP directory (OpenLDAP, Active Directory) with ldap3.

A service account (or an anonymous bind) finds the user's entry with the search filter, the
user's own DN is then bound with the typed password, and, when a group is configured, the group
entry is read to check the membership. The password is never logged nor kept.
"""

from __future__ import annotations

import math
import re
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ldap3 import BASE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from tradia.auth.settings import AuthSettings

# The attribute the filter matches the name against: its value becomes the user name, so
# "JDupont" and "jdupont" are one user (jobs, metrics) as they are one account in AD.
_NAME_ATTRIBUTE = re.compile(r"\(\s*([A-Za-z][\w-]*)\s*=\s*\{username\}\s*\)")


class DirectoryUnavailable(Exception):
    """The directory cannot be reached or refuses the service account: not the user's fault."""


class InvalidCredentials(Exception):
    pass


class NotInGroup(Exception):
    pass


@dataclass(frozen=True)
class DirectoryUser:
    name: str
    dn: str
    groups: list[str]


class LdapDirectory:
    def __init__(self, auth: AuthSettings) -> None:
        self.auth = auth
        # Whole seconds: ldap3 packs them into socket options.
        self.timeout = max(1, math.ceil(auth.ldap_timeout))
        url = urlsplit(auth.ldap_url)
        tls = Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=str(auth.ldap_ca_file) if auth.ldap_ca_file else None,
            version=ssl.PROTOCOL_TLS_CLIENT,
        )
        self.server = Server(
            url.hostname or "",
            port=url.port,
            use_ssl=url.scheme == "ldaps",
            tls=tls,
            connect_timeout=self.timeout,
            get_info="NO_INFO",
        )
        match = _NAME_ATTRIBUTE.search(auth.ldap_user_filter)
        self.name_attribute = match.group(1) if match else None

    def _connection(self, user: str | None, password: str | None) -> Connection:
        connection = Connection(
            self.server,
            user=user,
            password=password,
            receive_timeout=self.timeout,
            read_only=True,
            raise_exceptions=False,
        )
        connection.open()
        if self.auth.ldap_starttls and not connection.start_tls():
            raise DirectoryUnavailable("StartTLS refused by the directory")
        return connection

    def authenticate(self, username: str, password: str) -> DirectoryUser:
        """The user, or InvalidCredentials / NotInGroup / DirectoryUnavailable (blocking: run
        it in a thread)."""
        # An empty password is an "unauthenticated bind" that LDAP servers accept.
        if not username.strip() or not password:
            raise InvalidCredentials
        try:
            return self._authenticate(username.strip(), password)
        except (LDAPException, OSError) as exc:
            raise DirectoryUnavailable(type(exc).__name__) from None

    def _authenticate(self, username: str, password: str) -> DirectoryUser:
        auth = self.auth
        service = self._connection(auth.ldap_bind_dn or None, auth.ldap_bind_password or None)
        try:
            if not service.bind():
                raise DirectoryUnavailable(f"service bind refused: {service.result['description']}")
            query = auth.ldap_user_filter.replace("{username}", escape_filter_chars(username))
            attributes = [self.name_attribute] if self.name_attribute else []
            service.search(
                auth.ldap_search_base, query, SUBTREE, attributes=attributes, size_limit=2
            )
            entries = [e for e in service.response or [] if e.get("type") == "searchResEntry"]
            if len(entries) != 1:
                raise InvalidCredentials
            entry = entries[0]
            user_dn: str = entry["dn"]
            found = entry.get("attributes", {})
            name = found.get(self.name_attribute) if self.name_attribute else None
            if isinstance(name, list):
                name = name[0] if name else None
            # The session keeps the group that let the user in, not every memberOf (AD users
            # are in dozens: the cookie would outgrow what browsers keep).
            groups: list[str] = []

            user = self._connection(user_dn, password)
            try:
                if not user.bind():
                    raise InvalidCredentials
            finally:
                user.unbind()

            if auth.ldap_group_dn:
                member = auth.ldap_group_filter.replace("{user_dn}", escape_filter_chars(user_dn))
                service.search(auth.ldap_group_dn, member, BASE, attributes=["cn"])
                if not any(e.get("type") == "searchResEntry" for e in service.response or []):
                    raise NotInGroup
                groups.append(auth.ldap_group_dn)
            return DirectoryUser(str(name or username), user_dn, groups)
        finally:
            service.unbind()
