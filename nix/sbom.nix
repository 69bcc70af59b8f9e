# The image's SBOM: `nix build .#sbom` gives a CycloneDX 1.5 JSON document (docs/nix.md,
# "Supply chain"), written by nix/sbom.py from
# - the runtime closure of the image's contents (pkgs.closureInfo's store-paths): every store
#   path the image holds, glibc, CPython, OpenSSL, libpq and the rest;
# - poetry.lock and pyproject.toml (nix/source.nix), for the Python packages of the main group,
#   with the file poetry2nix builds each one from (read here from its fetcher: the wheel for this
#   system, psycopg-c's sdist) and that file's hash in the lock.
{
  pkgs,
  app,
  # What the image is made of (nix/image-contents.nix) and the static files its config names.
  contents,
  static,
  src,
  version,
  system,
}:
let
  inherit (pkgs) lib;
  # The same file as src's (nix/source.nix), read from the flake's own copy.
  lock = builtins.fromTOML (builtins.readFile ../poetry.lock);

  # The image's closure: its contents and the static files its config names (STATIC_ROOT).
  closure = pkgs.closureInfo { rootPaths = contents ++ [ static ]; };

  # poetry2nix's package for each locked name (the lock's names are already normalised; a
  # package for another Python is not in the set), and the file its fetcher downloads
  # (fetchFromPypi's `file`). The paths are only compared with the closure: without their
  # string context, listing a dev-group package builds nothing.
  pythonPackages = app.python.pkgs;
  locked = lib.filter (package: pythonPackages ? ${package.name}) lock.package;
  files = lib.listToAttrs (
    map (package: {
      inherit (package) name;
      value = {
        inherit (pythonPackages.${package.name}.src) file;
        path = builtins.unsafeDiscardStringContext pythonPackages.${package.name}.outPath;
      };
    }) locked
  );
  filesJson = pkgs.writeText "desideliver-sbom-files.json" (builtins.toJSON files);

  # The generator's only dependency beyond the standard library: PEP 508 markers.
  python = pkgs.python3.withPackages (ps: [ ps.packaging ]);
in
pkgs.runCommand "desideliver-sbom-${version}.cdx.json"
  {
    # `nix build .#sbom.closure` (its store-paths file); `nix eval --json .#sbom.files`.
    passthru = { inherit closure files; };
  }
  ''
    ${python}/bin/python3 ${./sbom.py} \
      --lock ${src}/poetry.lock \
      --pyproject ${src}/pyproject.toml \
      --files ${filesJson} \
      --store-paths ${closure}/store-paths \
      --system ${system} \
      --python-version ${app.python.version} \
      --version ${version} > $out
  ''
