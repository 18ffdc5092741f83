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

# _pgvc_find_or_install LABEL FINDER PACKAGE [NOTE]: prints "LABEL: <what FINDER found>", installing PACKAGE first when
# FINDER finds nothing; returns 1 when it still finds nothing (the caller says how to fix it).
_pgvc_find_or_install() {
  local label=$1 finder=$2 package=$3 note=${4:-} found
  if found=$($finder); then echo "$label: $found"; return 0; fi
  echo "$label not found; installing the distribution's $package package${note}..."
  if _pgvc_apt_install "$package" >/dev/null && found=$($finder); then echo "$label: $found"; return 0; fi
  return 1
}

pgvc_ensure_postgres() {
  _pgvc_find_or_install "PostgreSQL server binaries" pgvc_find_postgres postgresql && return 0
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
  _pgvc_find_or_install Chromium pgvc_find_chromium chromium " (about a minute)" && return 0
  echo "error: Chromium is missing and could not be installed. Install it (Debian: sudo apt-get install chromium;" >&2
  echo "       Ubuntu: a Chromium or Chrome package) or set PGVIDEOCHAT_CHROMIUM to a Chromium-based browser." >&2
  return 1
}

# Node.js 18 or newer, for the web client's JavaScript unit tests (node --test) and the constants check.
_pgvc_find_node() {
  command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 18 ] \
    && echo "$(command -v node) $(node --version)"
}

pgvc_ensure_node() {
  _pgvc_find_or_install "Node.js 18+" _pgvc_find_node nodejs && return 0
  echo "error: Node.js 18 or newer is missing and could not be installed (Debian/Ubuntu: sudo apt-get install nodejs;" >&2
  echo "       macOS: brew install node)." >&2
  return 1
}
