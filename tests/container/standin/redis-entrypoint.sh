#!/bin/sh
# docker-entrypoint.sh of the redis stand-in: like the official image's, it runs redis-server
# (and only it) as the redis user in /data; anything else is exec'd as given.
set -eu
if [ "${1:-}" = redis-server ]; then
  chown redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
