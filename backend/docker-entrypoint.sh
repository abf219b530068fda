#!/bin/sh
# Container entrypoint: make DATA_DIR writable, drop root, exec the command (python -m app serve).
#
# DATA_DIR (/app/data) is usually a bind mount of ./backend/data. Docker creates a missing bind
# source owned by root, which the unprivileged app could not write. So, when started as root:
#   - a dir owned by root is chowned (once) to the image's app user (uid 10001), or, when its
#     parent belongs to a user (the dev stack mounts your ./backend at /app), to that user;
#   - a dir owned by some other uid (e.g. your own user, from `make run`) is left alone and the
#     app runs as that uid instead, so the host keeps owning its files;
# then setpriv (util-linux, no gosu/su-exec needed) switches uid/gid, sets the supplementary groups
# to just the Docker socket's group (below) and sets no_new_privs. Started with `--user`/`user:`
# (non-root), the command runs unchanged (give it the socket's group with `group_add:`).
#
# The Docker socket (compose mounts it at /var/run/docker.sock; UNITY_DOCKER_SOCKET moves it) is
# owned by the host's `docker` group, whose gid differs from host to host: the app user gets that
# gid, found at start. A socket owned by group root is left alone: that would hand the app gid 0.
set -eu
data="${DATA_DIR:-/app/data}"
app_uid="${APP_UID:-10001}"

if [ "$(id -u)" != 0 ]; then
    exec "$@"
fi

mkdir -p "$data"
if [ "$(stat -c %u "$data")" = 0 ]; then
    # Hand a root-owned dir to the owner of its parent when that is a user (the dev stack mounts
    # your ./backend at /app), else to the app user.
    parent=$(dirname "$data")
    owner="$(stat -c %u "$parent"):$(stat -c %g "$parent")"
    case "$owner" in 0:*) owner="$app_uid:$app_uid" ;; esac
    if ! chown -R "$owner" "$data"; then
        echo "unity: cannot chown $data to $owner; on the host run: sudo chown -R $app_uid:$app_uid backend/data" >&2
        exit 1
    fi
fi
uid=$(stat -c %u "$data")
gid=$(stat -c %g "$data")
[ "$gid" != 0 ] || gid="$app_uid"

groups="--clear-groups"
sock="${UNITY_DOCKER_SOCKET:-/var/run/docker.sock}"
if [ -S "$sock" ]; then
    sock_gid=$(stat -c %g "$sock")
    if [ "$sock_gid" = 0 ]; then
        echo "unity: $sock belongs to group root, so the docker plugin cannot read it; on the host give it a group (e.g. sudo chgrp docker $sock) or remove the socket mount" >&2
    elif [ "$sock_gid" != "$gid" ]; then
        groups="--groups=$sock_gid"
    fi
fi
export HOME=/app
exec setpriv --reuid="$uid" --regid="$gid" "$groups" --no-new-privs -- "$@"
