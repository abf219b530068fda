#!/usr/bin/env bash
# Writes .env from .env.example with fresh secrets (POSTGRES_PASSWORD, ENCRYPTION_KEY, JWT_SECRET_KEY).
# Never overwrites an existing file: a second run says so and succeeds. Needs only python3 (stdlib)
# or openssl, not the backend venv, and not make.
# usage: bash scripts/make-env.sh       (writes ./.env at the repository root; `make env` runs this)
#        ENV_FILE=/path/.env scripts/make-env.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
example="$root/.env.example"
target="${ENV_FILE:-$root/.env}"

if [ -e "$target" ]; then
    # Its secrets already encrypt the stored credentials: a new ENCRYPTION_KEY would lose them.
    echo "make env: $target already exists and was kept as it is (its secrets are in use)." >&2
    echo "  New settings: compare it with .env.example and copy the lines you want." >&2
    echo "  A fresh install: move it away (mv $target $target.old) and run this again." >&2
    exit 0
fi
[ -f "$example" ] || { echo "make env: $example is missing" >&2; exit 1; }

# fernet: 32 random bytes, url-safe base64 (what cryptography's Fernet.generate_key() returns).
# token: url-safe, so it can sit in DATABASE_URL without quoting.
gen() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import base64, os, secrets, sys
print(base64.urlsafe_b64encode(os.urandom(32)).decode() if sys.argv[1] == "fernet" else secrets.token_hex(int(sys.argv[2])))' "$@"
    elif command -v openssl >/dev/null 2>&1; then
        if [ "$1" = fernet ]; then openssl rand -base64 32 | tr '+/' '-_'; else openssl rand -hex "$2"; fi
    else
        echo "make env: need python3 or openssl to generate secrets" >&2; exit 1
    fi
}
pg=$(gen token 24)
key=$(gen fernet)
jwt=$(gen token 32)

umask 077
tmp=$(mktemp "$(dirname "$target")/.env.XXXXXX")
trap 'rm -f "$tmp"' EXIT
sed -e "s|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=$pg|" \
    -e "s|^ENCRYPTION_KEY=.*|ENCRYPTION_KEY=$key|" \
    -e "s|^JWT_SECRET_KEY=.*|JWT_SECRET_KEY=$jwt|" \
    "$example" > "$tmp"
for v in POSTGRES_PASSWORD ENCRYPTION_KEY JWT_SECRET_KEY; do
    grep -Eq "^$v=.+" "$tmp" || { echo "make env: .env.example has no '$v=' line" >&2; exit 1; }
done
# ln fails if the target appeared meanwhile: never clobber.
ln "$tmp" "$target" || { echo "make env: $target already exists; not touching it" >&2; exit 1; }
echo "wrote $target (mode 0600) with fresh POSTGRES_PASSWORD, ENCRYPTION_KEY and JWT_SECRET_KEY"
echo "keep a copy of it with your backups: ENCRYPTION_KEY decrypts the stored plugin credentials"
