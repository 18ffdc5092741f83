# Installs what PgVideoChat's tests need on a fresh machine, where it is missing. Sourced by eng/test.sh.
# Needs root (or password-less sudo) only when something has to be installed.

_pgvc_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1; fi
}

_pgvc_apt_updated=""
_pgvc_apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ -z "$_pgvc_apt_updated" ]; then
    _pgvc_as_root apt-get update -qq || return 1
    _pgvc_apt_updated=1
  fi
  _pgvc_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# PostgreSQL server binaries (initdb, postgres), 15 or newer: the same search as the AppHost's launcher.
pgvc_find_postgres() {
  if [ -n "${Postgres__BinDirectory:-}" ] && [ -x "$Postgres__BinDirectory/initdb" ]; then echo "$Postgres__BinDirectory"; return 0; fi
  if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  if command -v pg_config >/dev/null 2>&1; then
    local bindir; bindir=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$bindir" ] && [ -x "$bindir/initdb" ] && [ -x "$bindir/postgres" ]; then echo "$bindir"; return 0; fi
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin /usr/pgsql-*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

pgvc_ensure_postgres() {
  local bindir
  if bindir=$(pgvc_find_postgres); then echo "PostgreSQL: $bindir"; return 0; fi
  echo "PostgreSQL server binaries not found; installing the distribution's postgresql package..."
  if _pgvc_apt_install postgresql >/dev/null && bindir=$(pgvc_find_postgres); then
    echo "PostgreSQL: $bindir"; return 0
  fi
  echo "error: PostgreSQL server binaries (initdb, postgres; 15 or newer) are missing and could not be installed." >&2
  echo "       Install them (Debian/Ubuntu: sudo apt-get install postgresql; Fedora: sudo dnf install postgresql-server;" >&2
  echo "       macOS: brew install postgresql@17) or set Postgres__BinDirectory to their folder." >&2
  return 1
}

pgvc_find_chromium() {
  if [ -n "${PGVIDEOCHAT_CHROMIUM:-}" ] && [ -x "$PGVIDEOCHAT_CHROMIUM" ]; then echo "$PGVIDEOCHAT_CHROMIUM"; return 0; fi
  local candidate
  for candidate in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return 0; fi
  done
  return 1
}

pgvc_ensure_chromium() {
  local path
  if path=$(pgvc_find_chromium); then echo "Chromium: $path"; return 0; fi
  echo "Chromium not found; installing the distribution's chromium package (about a minute)..."
  if _pgvc_apt_install chromium >/dev/null && path=$(pgvc_find_chromium); then
    echo "Chromium: $path"; return 0
  fi
  echo "error: Chromium is missing and could not be installed. Install it (Debian: sudo apt-get install chromium;" >&2
  echo "       Ubuntu: a Chromium or Chrome package) or set PGVIDEOCHAT_CHROMIUM to a Chromium-based browser." >&2
  return 1
}

# Node.js 18 or newer, for the web client's JavaScript unit tests (node --test) and the constants check.
pgvc_ensure_node() {
  if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 18 ]; then
    echo "Node.js: $(command -v node) $(node --version)"; return 0
  fi
  echo "Node.js 18+ not found; installing the distribution's nodejs package..."
  if _pgvc_apt_install nodejs >/dev/null && command -v node >/dev/null 2>&1; then
    echo "Node.js: $(command -v node) $(node --version)"; return 0
  fi
  echo "error: Node.js 18 or newer is missing and could not be installed (Debian/Ubuntu: sudo apt-get install nodejs;" >&2
  echo "       macOS: brew install node)." >&2
  return 1
}
