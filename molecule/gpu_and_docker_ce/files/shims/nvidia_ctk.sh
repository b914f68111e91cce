#!/bin/sh
# Test shim for nvidia-ctk: logs every call and changes nothing. The ai_server role must never
# call it (`nvidia-ctk runtime configure` would fight docker_engine over /etc/docker/daemon.json),
# so the tests expect this log to be absent.
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> /var/log/nvidia-ctk.log
case "$1" in
  --version) echo "NVIDIA Container Toolkit CLI version 1.17.8 (test shim)" ;;
esac
exit 0
