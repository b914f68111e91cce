#!/bin/bash
# Starts the test bed's identity provider: slapd (users and groups), LemonLDAP::NG's portal as an
# OpenID Connect provider (configured here from the environment with lemonldap-ng-cli) on the
# FastCGI server, and nginx serving it over HTTPS. Variables: README.md. Every secret can come
# from a file instead (NAME_FILE), so that it shows neither in `docker inspect` nor in a process
# list; no secret is ever passed on a command line.
set -euo pipefail

cli=(/usr/share/lemonldap-ng/bin/lemonldap-ng-cli -yes 1 -safe 1)
share=/usr/local/share/tradia-idp
run=/run/tradia-idp
secrets="$run/secrets"

log() {
  echo "tradia-idp: $*" >&2
}

die() {
  log "$*"
  exit 1
}

# secret NAME: the value of $NAME, else the content of the file $NAME_FILE, into $secrets/NAME
# (written with printf: no trailing newline, nothing on a command line).
secret() {
  local name="$1" file_var="${1}_FILE"
  if [ -n "${!name:-}" ]; then
    printf '%s' "${!name}" >"$secrets/$name"
  elif [ -n "${!file_var:-}" ] && [ -r "${!file_var}" ]; then
    # A file's final newline (echo > file) is not part of the secret.
    printf '%s' "$(cat "${!file_var}")" >"$secrets/$name"
  else
    die "$name (or ${name}_FILE) is required"
  fi
  [ -s "$secrets/$name" ] || die "$name is empty"
}

issuer="${IDP_ISSUER:?IDP_ISSUER is required (e.g. https://idp.tradia.test)}"
issuer="${issuer%/}"
case "$issuer" in
  https://*) ;;
  *) die "IDP_ISSUER must be an https:// URL (got $issuer)" ;;
esac
host="${issuer#https://}"
host="${host%%/*}"
host="${host%%:*}"
client_id="${IDP_CLIENT_ID:-tradia}"
redirect_uris="${IDP_REDIRECT_URIS:?IDP_REDIRECT_URIS is required (space-separated)}"
post_logout_uris="${IDP_POST_LOGOUT_REDIRECT_URIS:-}"
require_pkce="${IDP_REQUIRE_PKCE:-1}"
base_dn="${IDP_LDAP_BASE_DN:-dc=tradia,dc=test}"
service_uid="${IDP_SERVICE_UID:-svc-tradia}"
service_dn="uid=$service_uid,ou=services,$base_dn"
tls_cert="${IDP_TLS_CERT:-/etc/tradia-idp/tls/cert.pem}"
tls_key="${IDP_TLS_KEY:-/etc/tradia-idp/tls/key.pem}"
[ -r "$tls_cert" ] && [ -r "$tls_key" ] ||
  die "mount the portal's certificate and key at $tls_cert and $tls_key (IDP_TLS_CERT, IDP_TLS_KEY)"

umask 077
mkdir -p "$secrets"
for name in IDP_CLIENT_SECRET IDP_ALICE_PASSWORD IDP_BOB_PASSWORD IDP_SERVICE_PASSWORD; do
  secret "$name"
done

# TLS: nginx (root) and slapd (openldap) each read their own copy of the mounted files.
install -d -m 0711 "$run"
install -d -m 0700 "$run/tls"
install -m 0644 "$tls_cert" "$run/tls/cert.pem"
install -m 0600 "$tls_key" "$run/tls/key.pem"
install -d -m 0750 -o openldap -g openldap /etc/ldap/tls
install -m 0644 -o openldap -g openldap "$tls_cert" /etc/ldap/tls/cert.pem
install -m 0600 -o openldap -g openldap "$tls_key" /etc/ldap/tls/key.pem

# --- slapd: configuration and users at first start (the image ships none) ---
if [ -z "$(ls -A /etc/ldap/slapd.d)" ]; then
  log "first start: creating the directory $base_dn"
  dc="${base_dn%%,*}"
  dc="${dc#dc=}"
  mail_domain=$(sed -e 's/^dc=//' -e 's/,dc=/./g' <<<"$base_dn")
  # slappasswd -T reads the password from a file: never on a command line.
  alice_hash=$(slappasswd -h '{SSHA}' -T "$secrets/IDP_ALICE_PASSWORD")
  bob_hash=$(slappasswd -h '{SSHA}' -T "$secrets/IDP_BOB_PASSWORD")
  service_hash=$(slappasswd -h '{SSHA}' -T "$secrets/IDP_SERVICE_PASSWORD")
  sed -e "s|@BASE_DN@|$base_dn|g" "$share/slapd-config.ldif.in" >"$run/config.ldif"
  sed -e "s|@BASE_DN@|$base_dn|g" -e "s|@DC@|$dc|g" -e "s|@MAIL_DOMAIN@|$mail_domain|g" \
    -e "s|@SERVICE_UID@|$service_uid|g" -e "s|@ALICE_HASH@|$alice_hash|" \
    -e "s|@BOB_HASH@|$bob_hash|" -e "s|@SERVICE_HASH@|$service_hash|" \
    "$share/slapd-data.ldif.in" >"$run/data.ldif"
  slapadd -q -n0 -F /etc/ldap/slapd.d -l "$run/config.ldif"
  slapadd -q -n1 -F /etc/ldap/slapd.d -l "$run/data.ldif"
  rm -f "$run/config.ldif" "$run/data.ldif"
  chown -R openldap:openldap /etc/ldap/slapd.d /var/lib/ldap
fi
install -d -m 0755 -o openldap -g openldap /run/slapd

pids=()
stop() {
  log "stopping"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait
  exit 0
}
trap stop TERM INT

# -d: stay in the foreground, logging binds and searches (never passwords) to docker logs.
slapd -d stats -h "ldap:/// ldaps:/// ldapi:///" -u openldap -g openldap -F /etc/ldap/slapd.d &
pids+=($!)
for _ in $(seq 1 50); do
  ldapsearch -x -LLL -H ldap://127.0.0.1 -b "" -s base namingContexts >/dev/null 2>&1 && break
  sleep 0.2
done

# --- LemonLDAP::NG: the configuration, from the environment, at every start ---
log "configuring LemonLDAP::NG as the OpenID Connect provider $issuer"
# Debian's sample configuration: its sites, menu and reload URL go (a null deletes a key).
"${cli[@]}" merge "$share/llng-cleanup.json"
# The portal and its cookie: this host only, HTTPS only; the LDAP backend for users, passwords
# and groups. The demo backend, its users and the sample sites' reload URL go.
"${cli[@]}" set \
  portal "$issuer/" \
  domain "$host" \
  securedCookie 1 \
  https 1 \
  authentication LDAP \
  userDB Same \
  passwordDB LDAP \
  registerDB Null \
  ldapServer ldap://127.0.0.1 \
  ldapBase "ou=users,$base_dn" \
  managerDn "$service_dn" \
  ldapGroupBase "ou=groups,$base_dn" \
  ldapGroupObjectClass groupOfNames \
  ldapGroupAttributeName member \
  ldapGroupAttributeNameUser dn \
  ldapGroupAttributeNameSearch cn \
  notification 0 \
  issuerDBOpenIDConnectActivation 1 \
  oidcServiceMetaDataIssuer "$issuer" \
  oidcServiceAllowAuthorizationCodeFlow 1
# The RS256 signing key pair, before any relying party asks for RS256 (the CLI refuses it
# otherwise): made once, at first start, by the package's rotation script.
if ! "${cli[@]}" get oidcServiceKeyIdSig | grep -q '= .'; then
  log "first start: generating the RS256 signing key"
  runuser -u www-data -- /usr/share/lemonldap-ng/bin/rotateOidcKeys
fi
# One relying party, "tradia": a confidential client (secret below) signed in by the
# authorization code flow, RS256 id_tokens carrying the claims (the app reads them there),
# no consent page, logout without a confirmation page when it names a registered URI.
rp=tradia
"${cli[@]}" addKey \
  ldapExportedVars uid uid \
  ldapExportedVars cn cn \
  ldapExportedVars mail mail \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsClientID "$client_id" \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsPublic 0 \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsRedirectUris "$redirect_uris" \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsPostLogoutRedirectUris "$post_logout_uris" \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsRequirePKCE "$require_pkce" \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsIDTokenSignAlg RS256 \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsIDTokenForceClaims 1 \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsUserIDAttr uid \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsBypassConsent 1 \
  "oidcRPMetaDataOptions/$rp" oidcRPMetaDataOptionsLogoutBypassConfirm 1 \
  "oidcRPMetaDataExportedVars/$rp" preferred_username uid \
  "oidcRPMetaDataExportedVars/$rp" name cn \
  "oidcRPMetaDataExportedVars/$rp" email mail \
  "oidcRPMetaDataExportedVars/$rp" groups 'groups;string;always' \
  "oidcRPMetaDataOptionsExtraClaims/$rp" groups groups
# The two secrets through `merge` and a file only www-data (the CLI's user) reads.
install -d -m 0700 -o www-data -g www-data "$run/cli"
merge="$run/cli/secrets.json"
install -m 0600 -o www-data -g www-data /dev/null "$merge"
perl -MJSON::PP -e '
  sub slurp { local $/; open my $fh, "<", $_[0] or die "$_[0]: $!"; return <$fh> }
  my ($dir, $rp) = @ARGV;
  print JSON::PP->new->canonical->encode({
      managerPassword => slurp("$dir/IDP_SERVICE_PASSWORD"),
      oidcRPMetaDataOptions => { $rp => {
          oidcRPMetaDataOptionsClientSecret => slurp("$dir/IDP_CLIENT_SECRET") } },
  });' "$secrets" "$rp" >"$merge"
"${cli[@]}" merge "$merge"
rm -rf "$run/cli"
rm -rf "$secrets"

install -d -m 0755 -o www-data -g www-data /run/llng-fastcgi-server
llng-fastcgi-server --foreground -u www-data -g www-data -n "${IDP_FASTCGI_PROCESSES:-2}" \
  -s /run/llng-fastcgi-server/llng-fastcgi.sock -p /run/llng-fastcgi-server/llng-fastcgi.pid &
pids+=($!)
nginx -g 'daemon off;' &
pids+=($!)
log "ready: $issuer/.well-known/openid-configuration"

# Any of the three ending ends the container (a supervisor-less container's health).
set +e
wait -n
status=$?
log "a service stopped (exit $status); stopping the others"
kill -TERM "${pids[@]}" 2>/dev/null
wait
exit "$status"
