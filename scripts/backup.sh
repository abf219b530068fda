#!/usr/bin/env bash
# Back up or restore Unity's database.
#   scripts/backup.sh backup            -> backups/unity-pg-<UTC time>.sql.gz   (compose stack running: pg_dump in the db container)
#                                       -> backups/unity-sqlite-<UTC time>.db.gz (embedded mode: online copy of backend/data/homelab.db)
#   scripts/backup.sh restore FILE      -> replaces the database with FILE (.sql.gz: PostgreSQL, .db/.db.gz: SQLite)
# Environment: COMPOSE (default "docker compose"; COMPOSE_FILE etc. are honoured), BACKUP_DIR (default
# ./backups), SQLITE_DB (default backend/data/homelab.db), BACKUP_MODE=postgres|sqlite to skip detection.
# The backup holds no secrets; keep .env (ENCRYPTION_KEY) with it, or stored credentials stay unreadable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
read -r -a compose <<<"${COMPOSE:-docker compose}"
backup_dir=${BACKUP_DIR:-$root/backups}
sqlite_db=${SQLITE_DB:-$root/backend/data/homelab.db}
PG_USER=homelab_user
PG_DB=homelab_db

die() { echo "backup: $*" >&2; exit 1; }
stamp() { date -u +%Y%m%d-%H%M%S; }

db_running() {
    "${compose[@]}" ps --status running --services 2>/dev/null | grep -qx db
}

mode() {
    if [ -n "${BACKUP_MODE:-}" ]; then echo "$BACKUP_MODE"; return; fi
    if db_running; then echo postgres
    elif [ -f "$sqlite_db" ]; then echo sqlite
    else die "no running compose 'db' service and no SQLite file at $sqlite_db: nothing to back up"
    fi
}

# SQLite's online backup API (what `sqlite3 .backup` uses): a consistent copy even while the app writes.
sqlite_copy() {
    python3 - "$1" "$2" <<'PY'
import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with dst:
    src.backup(dst)
ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
src.close(); dst.close()
sys.exit(0 if ok == "ok" else f"integrity check of the copy failed: {ok}")
PY
}

backup() {
    mkdir -p "$backup_dir"
    local m out tmp
    m=$(mode)
    case "$m" in
    postgres)
        out="$backup_dir/unity-pg-$(stamp).sql.gz"
        tmp="$out.partial"
        # --clean --if-exists: the dump also restores over an existing schema with plain psql.
        "${compose[@]}" exec -T db pg_dump -U "$PG_USER" -d "$PG_DB" --clean --if-exists --no-owner \
            | gzip -c > "$tmp" || { rm -f "$tmp"; die "pg_dump failed"; }
        ;;
    sqlite)
        [ -f "$sqlite_db" ] || die "no SQLite database at $sqlite_db"
        out="$backup_dir/unity-sqlite-$(stamp).db.gz"
        tmp="$out.partial"
        local copy; copy=$(mktemp)
        sqlite_copy "$sqlite_db" "$copy" || { rm -f "$copy"; die "SQLite backup failed"; }
        gzip -c "$copy" > "$tmp"; rm -f "$copy"
        ;;
    *) die "BACKUP_MODE must be postgres or sqlite, not '$m'" ;;
    esac
    [ -s "$tmp" ] || { rm -f "$tmp"; die "backup came out empty"; }
    mv "$tmp" "$out"
    echo "backup written: ${out#"$root"/} ($(du -h "$out" | cut -f1))"
}

restore() {
    local file=${1:-}
    [ -n "$file" ] || die "usage: scripts/backup.sh restore FILE   (make restore FILE=backups/...)"
    [ -f "$file" ] || die "no such file: $file"
    case "$file" in
    *.sql.gz|*.sql)
        db_running || [ "${BACKUP_MODE:-}" = postgres ] || die "the compose 'db' service is not running (docker compose up -d db)"
        local cat=(cat); [[ "$file" == *.gz ]] && cat=(gunzip -c)
        local header; header=$("${cat[@]}" "$file" 2>/dev/null | head -c 4096 || true)  # head ends the pipe early
        [[ "$header" == *"PostgreSQL database dump"* ]] || die "$file is not a pg_dump file"
        echo "stopping the backend while the database is replaced"
        "${compose[@]}" stop backend >/dev/null 2>&1 || true
        # A clean database, then the dump; the backend migrates it forward on start if it is older.
        "${compose[@]}" exec -T db psql -q -v ON_ERROR_STOP=1 -U "$PG_USER" -d postgres \
            -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB OWNER $PG_USER" \
            || die "could not recreate $PG_DB"
        "${cat[@]}" "$file" | "${compose[@]}" exec -T db psql -q -v ON_ERROR_STOP=1 -U "$PG_USER" -d "$PG_DB" >/dev/null \
            || die "restore of $file failed"
        "${compose[@]}" start backend >/dev/null 2>&1 || true
        ;;
    *.db.gz|*.db)
        local src="$file" tmp=""
        if [[ "$file" == *.gz ]]; then tmp=$(mktemp); gunzip -c "$file" > "$tmp"; src=$tmp; fi
        mkdir -p "$(dirname "$sqlite_db")"
        if [ -f "$sqlite_db" ]; then
            cp -p "$sqlite_db" "$sqlite_db.before-restore"
            echo "previous database kept as ${sqlite_db#"$root"/}.before-restore"
        fi
        # Writing through the backup API keeps the target's inode, owner and mode; stop the app first.
        sqlite_copy "$src" "$sqlite_db" || { [ -z "$tmp" ] || rm -f "$tmp"; die "SQLite restore failed"; }
        [ -z "$tmp" ] || rm -f "$tmp"
        ;;
    *) die "$file: expected a .sql.gz (PostgreSQL) or .db.gz (SQLite) backup" ;;
    esac
    echo "restored $file"
}

case "${1:-}" in
backup) backup ;;
restore) restore "${2:-}" ;;
*) die "usage: scripts/backup.sh backup | restore FILE" ;;
esac
