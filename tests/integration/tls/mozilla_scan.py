"""Scan TLS endpoints with sslyze and check them against Mozilla's "intermediate" profile.

Runs with sslyze's own interpreter (.venv/sslyze/bin/python: sslyze needs a cryptography the
main virtualenv cannot take), standalone: the integration test runs it on this machine, the
molecule test inside the app server's network namespace. Prints one JSON object per target:

    {"target": "localhost:8443", "issues": {"certificate_path_validation": "..."},
     "trusted_by": ["custom"], "scan_errors": []}

`issues` is what sslyze's Mozilla checker reports; a private CA shows as
`certificate_path_validation` unless --ca names it, and `trusted_by` lists the trust stores
(sslyze's bundled ones and "custom" for --ca) that validated the server's chain.

Usage: mozilla_scan.py [--ca ca.crt] [--ip ADDRESS] host:port [host:port ...]
(--ip connects there and sends `host` as SNI, so no name resolution is needed).
"""

import argparse
import json
import sys
from pathlib import Path

from sslyze import (
    CertificateInfoExtraArgument,
    ScanCommandsExtraArguments,
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)
from sslyze.mozilla_tls_profile.tls_config_checker import (
    SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
    MozillaTlsConfiguration,
    ServerNotCompliantWithTlsConfiguration,
    ServerScanResultIncomplete,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)


def _request(target: str, ip: str | None, ca: Path | None) -> ServerScanRequest:
    host, _, port = target.rpartition(":")
    extra = (
        ScanCommandsExtraArguments(certificate_info=CertificateInfoExtraArgument(custom_ca_file=ca))
        if ca
        else ScanCommandsExtraArguments()
    )
    return ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=host, port=int(port), ip_address=ip),
        scan_commands=SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
        scan_commands_extra_arguments=extra,
    )


def scan(targets: list[str], ip: str | None, ca: Path | None) -> list[dict[str, object]]:
    profile = MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE)
    scanner = Scanner()
    scanner.queue_scans([_request(t, ip, ca) for t in targets])
    reports = []
    for result in scanner.get_results():
        location = result.server_location
        report: dict[str, object] = {
            "target": f"{location.hostname}:{location.port}",
            "issues": {},
            "trusted_by": [],
            "scan_errors": [],
        }
        reports.append(report)
        if result.scan_status != ServerScanStatusEnum.COMPLETED or result.scan_result is None:
            report["scan_errors"] = [f"no connection: {result.connectivity_error_trace}"]
            continue
        certificate_info = result.scan_result.certificate_info.result
        if certificate_info is not None:
            report["trusted_by"] = sorted(
                validation.trust_store.name
                for deployment in certificate_info.certificate_deployments
                for validation in deployment.path_validation_results
                if validation.was_validation_successful
            )
        try:
            check_server_against_tls_configuration(result, profile)
        except ServerNotCompliantWithTlsConfiguration as error:
            report["issues"] = dict(error.issues)
        except ServerScanResultIncomplete as error:
            report["scan_errors"] = [str(error)]
    return reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ca", type=Path, help="a private CA to trust (a 'custom' trust store)")
    parser.add_argument("--ip", help="connect to this address (the target's host is the SNI)")
    parser.add_argument("targets", nargs="+", help="host:port")
    args = parser.parse_args()
    json.dump(scan(args.targets, args.ip, args.ca), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
