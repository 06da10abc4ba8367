#!/bin/sh
# Nodes bind 0.0.0.0 in a container; other nodes must be told an address that reaches this one. Unless
# ACTORS_PUBLIC_HOST says otherwise (Kubernetes sets it to the pod IP), advertise the container's own address.
set -e
if [ -z "${ACTORS_PUBLIC_HOST:-}" ] && [ "${ACTORS_HOST:-}" = "0.0.0.0" ]; then
  ACTORS_PUBLIC_HOST="$(hostname -i | cut -d' ' -f1)"
  export ACTORS_PUBLIC_HOST
fi
exec actors "$@"
