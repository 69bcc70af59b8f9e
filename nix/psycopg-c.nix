# A poetry2nix overlay: psycopg-c ships no wheel, so it is built from its sdist. poetry2nix's
# default override adds pkgs.postgresql (pg_config, libpq) and build-systems.json adds
# setuptools; nix/psycopg-c-patch.sh makes the sdist's pyproject.toml readable by the setuptools
# of our nixpkgs pin, failing the build if the sdist no longer looks as expected.
# Emulated with setuptools 72.1.0, 75.1.0 and 80.9.0: see docs/nix.md.
_final: prev: {
  psycopg-c = prev.psycopg-c.overridePythonAttrs (old: {
    postPatch = (old.postPatch or "") + ''
      bash ${./psycopg-c-patch.sh} ${./psycopg-c-setup.py}
    '';
    # include-package-data installs the generated C sources next to the compiled extensions
    # (7.3 MB, measured on the same sdist built by pip); nothing reads them at run time.
    postInstall = (old.postInstall or "") + ''
      find "$out" -path '*/psycopg_c/*' -name '*.c' -delete
    '';
  });
}
