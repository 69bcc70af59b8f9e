# The dev shell: `nix develop`, then `make dev` / `make test`.
#
# The poetry2nix environment of the main and dev groups (nix/dev-env.nix: ruff and mypy at
# the versions poetry.lock pins), Poetry, PostgreSQL (same major as compose's
# postgres:16-alpine), Redis, wrk (make bench), Compose v2 (the compose tests) and nixfmt.
#
# The app is live from the working tree: `self` is a read-only store copy, so the source
# directory is resolved at shell time (git's top level, else $PWD) and put on PYTHONPATH,
# the pure equivalent of an editable install.
{
  pkgs,
  devEnv,
}:
pkgs.mkShell {
  packages = [
    devEnv
    pkgs.poetry
    pkgs.postgresql_16
    pkgs.redis
    pkgs.wrk
    pkgs.docker-compose
    pkgs.nixfmt-rfc-style
    pkgs.gnumake
    pkgs.git
  ];

  shellHook = ''
    DESIDELIVER_ROOT="$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
    export DESIDELIVER_ROOT
    export PYTHONPATH="$DESIDELIVER_ROOT/src"
  '';
}
