#!/bin/sh
# Test shim for nvidia-container-runtime: logs its arguments, then is plain runc (the real one
# adds the prestart hook to GPU containers' specs and then execs runc the same way).
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> /var/log/nvidia-container-runtime.log
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec runc "$@"
