# The application, built by poetry2nix from pyproject.toml and poetry.lock.
#
# Called from flake.nix as `import ./nix/package.nix { inherit pkgs poetry2nix src; }`
# where `poetry2nix` is `poetry2nix.lib.mkPoetry2Nix { inherit pkgs; }` and `src` is
# nix/source.nix (pyproject.toml, poetry.lock and src/ only).
{
  pkgs,
  poetry2nix,
  src,
  keepDjangoLocales ? false,
}:
let
  # The interpreter, named explicitly (poetry2nix defaults to pkgs.python3).
  python = pkgs.python312;

  overrides = import ./overrides.nix {
    inherit poetry2nix keepDjangoLocales;
    inherit (pkgs) lib;
  };
in
poetry2nix.mkPoetryApplication {
  projectDir = src;
  # Already filtered (nix/source.nix): poetry2nix's default would filter it again, walking the
  # store path's parent directories for .gitignore files.
  inherit src;
  inherit python overrides;

  # Wheels need no build backend, which is where poetry2nix most often breaks. Every
  # package of the main group has a wheel for each system except psycopg-c
  # (tests/nix/test_poetry2nix_files.py runs poetry2nix's own selection to keep it so).
  preferWheels = true;

  # The test suite runs in the flake's checks, not here; and the dev group (pytest, ruff,
  # mypy, ...) is not even a build input of the app: only the main group reaches the image.
  doCheck = false;
  checkGroups = [ ];

  # poetry-core refuses to build without the readme pyproject.toml names; its text only
  # becomes the wheel's METADATA description, which nothing reads at run time. A placeholder
  # keeps README.md out of the source (nix/source.nix), so editing it rebuilds nothing.
  postPatch = ''
    echo "DesiDeliver: see README.md in the repository." > README.md
  '';

  # As for every dependency (nix/runtime-trims.nix).
  postInstall = import ./bytecode.nix;
}
