"""Sign-in: sessions in a signed cookie, and local accounts, an LDAP directory or an OIDC
provider to open them (TRADIA_AUTH). `none` keeps the proxy's user header."""
