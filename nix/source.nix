# The files the app is built from: pyproject.toml, poetry.lock and src/. A README, docs, tests
# or Nix edit leaves this store path unchanged, so it rebuilds neither the app, nor the static
# files, nor the image's layers (only what really changed: the image config for a new revision).
{ lib }:
lib.fileset.toSource {
  root = ../.;
  fileset = lib.fileset.unions [
    ../pyproject.toml
    ../poetry.lock
    ../src
  ];
}
