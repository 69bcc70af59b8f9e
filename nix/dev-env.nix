# The Python environment of the dev shell and of the test check: the main and dev groups of
# poetry.lock, from wheels (psycopg-c from its sdist), plus poetry2nix's `desideliver`
# console script. The app's own source is not in it: the shell and the check put the
# working tree's src/ on PYTHONPATH.
{
  pkgs,
  poetry2nix,
  src,
}:
poetry2nix.mkPoetryEnv {
  projectDir = src;
  python = pkgs.python312;
  overrides = import ./overrides.nix {
    inherit poetry2nix;
    inherit (pkgs) lib;
  };
  preferWheels = true;
  groups = [
    "main"
    "dev"
  ];
}
