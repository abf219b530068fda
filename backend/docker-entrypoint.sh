#!/bin/sh
# Container entrypoint: make DATA_DIR writable, drop root, exec the command (python -m app serve).
#
# DATA_DIR (/app/data) is usually a bind mount of ./backend/data. Docker creates a missing bind
# source owned by root, which the unprivileged app could not write. So, when started as root:
#   - a dir owned by root is chowned (once) to the image's app user (uid 10001), or, when its
#     parent belongs to a user (the dev stack mounts your ./backend at /app), to that user;
#   - a dir owned by some other uid (e.g. your own user, from `make run`) is left alone and the
#     app runs as that uid instead, so the host keeps owning its files;
# then setpriv (util-linux, no gosu/su-exec needed) switches uid/gid, clears supplementary groups
# and sets no_new_privs. Started with `--user`/`user:` (non-root), the command runs unchanged.
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
export HOME=/app
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs -- "$@"
