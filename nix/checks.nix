# `nix flake check`: the pytest suite, the image check and the Nix formatting.
{
  pkgs,
  devEnv,
  src,
  image ? null,
}:
let
  inherit (pkgs) lib;
  postgresql = pkgs.postgresql_16;

  # nix/check_image.py on the built archive: non-root numeric user, no shell at /bin,
  # /usr/bin, /sbin or on PATH, /tmp 1777, labels, fixed date; prints the size and the
  # ten largest store paths.
  imageCheck = pkgs.runCommand "desideliver-image-check" { } ''
    if ! ${pkgs.python3}/bin/python3 ${./check_image.py} ${image} > report.txt; then
      cat report.txt
      exit 1
    fi
    cat report.txt
    cp report.txt $out
  '';

  checks = {
    # The same pytest suite as `make test`, against PostgreSQL 16 and Redis from nixpkgs.
    # Tests needing tools the sandbox lacks (compose, nix-instantiate) skip themselves.
    pytest = pkgs.runCommand "desideliver-pytest" { } ''
      cp -r ${src} source
      chmod -R u+w source
      cd source
      export HOME="$TMPDIR"
      export PATH="${devEnv}/bin:${lib.getDev postgresql}/bin:${lib.getBin postgresql}/bin:${lib.getBin pkgs.redis}/bin:${lib.getBin pkgs.wrk}/bin:$PATH"
      export PYTHONPATH="$PWD/src"
      export PYTHONDONTWRITEBYTECODE=1
      python -m pytest -q -p no:cacheprovider tests
      touch $out
    '';

    # Nix files formatted as `nix fmt` (nixfmt-rfc-style) would write them.
    formatting = pkgs.runCommand "desideliver-nixfmt-check" { } ''
      ${pkgs.nixfmt-rfc-style}/bin/nixfmt --check ${src}/flake.nix ${src}/nix/*.nix
      touch $out
    '';
  };
in
checks // lib.optionalAttrs (image != null) { image = imageCheck; }
