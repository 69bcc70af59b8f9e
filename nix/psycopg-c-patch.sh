# Run by nix/psycopg-c.nix in psycopg-c's unpacked sdist: `bash psycopg-c-patch.sh SETUP_PY`.
#
# The 3.3 sdist's pyproject.toml needs setuptools >= 77 (PEP 639 `license = "..."`,
# `license-files`) and >= 74.1 (`[[tool.setuptools.ext-modules]]`); nixpkgs at our pin has an
# older setuptools, which rejects the file. This rewrites it into the form every setuptools >= 61
# accepts: the licence as a table, no license-files, and the two extensions declared in a
# setup.py (SETUP_PY) instead. The sdist's own build_ext class still adds pg_config's include
# and lib directories and links libpq.
#
# Every edit fails loudly when its pattern no longer matches: a new sdist must be looked at,
# not half-patched.
set -euo pipefail

fail() {
  echo "nix/psycopg-c-patch.sh: $*; the psycopg-c sdist changed: update nix/psycopg-c-patch.sh" >&2
  exit 1
}

# expect COUNT PATTERN: pyproject.toml has exactly COUNT lines matching PATTERN (a basic regex).
expect() {
  local found
  found=$(grep -c -- "$2" pyproject.toml || true)
  [ "$found" -eq "$1" ] || fail "expected $1 line(s) matching '$2' in pyproject.toml, found $found"
}

[ -f pyproject.toml ] || fail "no pyproject.toml"
[ ! -e setup.py ] || fail "it now ships a setup.py"
expect 1 '^license = "[^"]*"$'
expect 1 '^license-files = '
expect 2 '^\[\[tool\.setuptools\.ext-modules\]\]$'
expect 1 '^build_ext = "psycopg_build_ext\.psycopg_build_ext"$'

sed -i \
  -e 's/^license = "\(.*\)"$/license = { text = "\1" }/' \
  -e '/^license-files = /d' \
  -e '/^\[\[tool\.setuptools\.ext-modules\]\]$/,/^sources = /d' \
  pyproject.toml

expect 1 '^license = { text = "[^"]*" }$'
expect 0 'license-files'
expect 0 'ext-modules\]\]'
expect 0 '^sources = '
expect 1 '^build_ext = "psycopg_build_ext\.psycopg_build_ext"$'
cp "$1" setup.py
