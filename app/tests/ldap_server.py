"""A real OpenLDAP (Debian's slapd) for the LDAP sign-in tests: a throwaway configuration
(slapd.conf, an mdb database filled with slapadd), LDAPS with a test CA and plain LDAP for
StartTLS, on free ports, as an unprivileged process (root drops to the openldap user)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ollama_sim.testing import free_port
from tls_certs import ServerCert, make_server_cert

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
BASE = "dc=example,dc=org"
SERVICE_DN = f"cn=tradia,ou=services,{BASE}"
SERVICE_PASSWORD = "service-bind-canary-7f3a"
ALLOWED_GROUP = f"cn=tradia-users,ou=groups,{BASE}"
OTHER_GROUP = f"cn=accounting,ou=groups,{BASE}"
# alice is in the allowed group, bob only in the other one, carol in both.
USERS = {"alice": "alice-pass-1", "bob": "bob-pass-2", "carol": "carol-pass-3"}
MEMBERS = {ALLOWED_GROUP: ["alice", "carol"], OTHER_GROUP: ["bob", "carol"]}

_CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
# Nothing in clear: plain LDAP is served only after StartTLS.
security tls=1
database mdb
suffix "{base}"
rootdn "cn=admin,{base}"
directory {dir}/db
maxsize 16777216
# Passwords: only binds use them. Everything else: signed-in accounts read (anonymous: nothing,
# so the service account's bind is needed to find users).
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""


def _ldif() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
        f"dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=groups,{BASE}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=services,{BASE}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: tradia\nuserPassword: {SERVICE_PASSWORD}",
    ]
    for name, password in USERS.items():
        entries.append(
            f"dn: uid={name},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: {name}\n"
            f"cn: {name.title()}\nsn: {name.title()}\nuserPassword: {password}"
        )
    for group, names in MEMBERS.items():
        members = "\n".join(f"member: uid={n},ou=people,{BASE}" for n in names)
        cn = group.split(",")[0].split("=")[1]
        entries.append(f"dn: {group}\nobjectClass: groupOfNames\ncn: {cn}\n{members}")
    return "\n\n".join(entries) + "\n"


class Slapd:
    def __init__(self) -> None:
        # Not under pytest's tmp_path: its root is private to the user running the tests,
        # and slapd runs as another one.
        self.dir = Path(tempfile.mkdtemp(prefix="tradia-slapd-"))
        self.dir.chmod(0o755)
        self.tls: ServerCert = make_server_cert(self.dir, "localhost", "ldap")
        (self.dir / "db").mkdir()
        config = self.dir / "slapd.conf"
        config.write_text(
            _CONFIG.format(
                dir=self.dir, ca=self.tls.ca, cert=self.tls.cert, key=self.tls.key, base=BASE
            )
        )
        data = self.dir / "data.ldif"
        data.write_text(_ldif())
        subprocess.run(
            [SLAPADD, "-f", str(config), "-l", str(data)], check=True, capture_output=True
        )
        self.ldaps_port, self.ldap_port = free_port(), free_port()
        self.ldaps_url = f"ldaps://localhost:{self.ldaps_port}"
        self.ldap_url = f"ldap://localhost:{self.ldap_port}"
        command = [
            SLAPD, "-d", "0", "-f", str(config),
            "-h", f"{self.ldaps_url}/ {self.ldap_url}/",
        ]  # fmt: skip
        if os.geteuid() == 0:
            account = pwd.getpwnam("openldap")
            for path in [self.dir, *self.dir.rglob("*")]:
                os.chown(path, account.pw_uid, account.pw_gid)
            command += ["-u", "openldap", "-g", "openldap"]
        self.log = (self.dir / "slapd.log").open("w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(self.dir / 'slapd.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.ldaps_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("slapd did not listen in 30 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
