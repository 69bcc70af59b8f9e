# The application, built by poetry2nix from pyproject.toml and poetry.lock.
#
# Called from flake.nix as `import ./nix/package.nix { inherit pkgs poetry2nix src; }`
# where `poetry2nix` is `poetry2nix.lib.mkPoetry2Nix { inherit pkgs; }`.
{
  pkgs,
  poetry2nix,
  src,
}:
let
  # The interpreter, named explicitly (poetry2nix defaults to pkgs.python3).
  python = pkgs.python312;

  overrides = import ./overrides.nix { inherit poetry2nix; };
in
poetry2nix.mkPoetryApplication {
  projectDir = src;
  inherit python overrides;

  # Wheels need no build backend, which is where poetry2nix most often breaks. Every
  # package of the main group has a manylinux/pure wheel except psycopg-c
  # (tests/nix/test_wheels.py keeps it that way).
  preferWheels = true;

  # The test suite runs in the flake's checks, not here.
  doCheck = false;
}
