# `nix flake check`: the pytest suite, the image check and the Nix formatting.
{
  pkgs,
  devEnv,
  src,
  image ? null,
  proxyImage ? null,
  # The image's uncompressed size limit, in MB (docs/nix.md, "The size budget").
  imageBudgetMB ? 180,
  # The proxy image's: nginx, its libraries, curl for the healthcheck and the static files.
  proxyImageBudgetMB ? 100,
}:
let
  inherit (pkgs) lib;
  postgresql = pkgs.postgresql_16;

  # nix/check_image.py (and the image_archive.py it imports) on the built archive:
  # non-root numeric user, no shell at /bin, /usr/bin, /sbin or on PATH, /tmp 1777, labels,
  # fixed date, and the size budget; prints the size and the ten largest store paths.
  imageChecker = lib.fileset.toSource {
    root = ./.;
    fileset = lib.fileset.unions [
      ./check_image.py
      ./image_archive.py
    ];
  };
  imageCheck =
    name: archive: budgetMB:
    pkgs.runCommand name { } ''
      if ! ${pkgs.python3}/bin/python3 ${imageChecker}/check_image.py ${archive} --budget-mb ${toString budgetMB} > report.txt; then
        cat report.txt
        exit 1
      fi
      cat report.txt
      cp report.txt $out
    '';

  checks = {
    # The same pytest suite as `make test`, against PostgreSQL 16 and Redis from nixpkgs, on
    # loopback with random ports, as the unprivileged build user. What the sandbox lacks makes
    # a test skip, saying why (-rs lists them): git and a work tree (tests/git_tree.py), the
    # Compose binary, nix-instantiate and the poetry2nix sources. docs/nix.md lists them.
    pytest = pkgs.runCommand "desideliver-pytest" { } ''
      cp -r ${src} source
      chmod -R u+w source
      cd source
      export HOME="$TMPDIR"
      export PATH="${devEnv}/bin:${lib.getDev postgresql}/bin:${lib.getBin postgresql}/bin:${lib.getBin pkgs.redis}/bin:${lib.getBin pkgs.wrk}/bin:$PATH"
      export PYTHONPATH="$PWD/src"
      export PYTHONDONTWRITEBYTECODE=1
      python -m pytest -q -rs -p no:cacheprovider tests
      touch $out
    '';

    # Nix files formatted as `nix fmt` (nixfmt-rfc-style) would write them.
    formatting = pkgs.runCommand "desideliver-nixfmt-check" { } ''
      ${pkgs.nixfmt-rfc-style}/bin/nixfmt --check ${src}/flake.nix ${src}/nix/*.nix
      touch $out
    '';
  };
in
checks
// lib.optionalAttrs (image != null) {
  image = imageCheck "desideliver-image-check" image imageBudgetMB;
}
// lib.optionalAttrs (proxyImage != null) {
  proxy-image = imageCheck "desideliver-proxy-image-check" proxyImage proxyImageBudgetMB;
}
