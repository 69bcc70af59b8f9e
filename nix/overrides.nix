# poetry2nix overrides shared by the package (nix/package.nix) and the dev shell (nix/shell.nix).
#
# poetry2nix's default overrides first, then ours on top: `extend` composes each overlay after
# the ones before it, so ours see and replace what the defaults set.
{ poetry2nix }:
(poetry2nix.defaultPoetryOverrides.extend (import ./wheel-filter.nix)).extend (
  _final: prev: {
    # psycopg-c ships no wheel: it is built from its sdist. The default override adds
    # pkgs.postgresql (pg_config, libpq) and build-systems.json adds setuptools.
    # The 3.3 sdist's pyproject.toml needs setuptools >= 77 (PEP 639 `license = "..."`,
    # `license-files`) and >= 74.1 (`[[tool.setuptools.ext-modules]]`); nixpkgs at our pin
    # has an older setuptools, which rejects that file. Rewrite it into the form every
    # setuptools >= 61 accepts: the licence as a table, and the two extensions declared in
    # a setup.py instead of pyproject.toml. Same sources, same build_ext command class
    # (which adds pg_config's include and lib dirs and links libpq).
    # Emulated here with setuptools 72.1.0, 75.1.0 and 80.9.0: see docs/nix.md.
    psycopg-c = prev.psycopg-c.overridePythonAttrs (old: {
      postPatch =
        (old.postPatch or "")
        + ''
          sed -i \
            -e 's/^license = "\(.*\)"$/license = { text = "\1" }/' \
            -e '/^license-files = /d' \
            -e '/^\[\[tool\.setuptools\.ext-modules\]\]$/,/^sources = /d' \
            pyproject.toml
          cp ${./psycopg-c-setup.py} setup.py
        '';
    });

    # poetry2nix's django override puts gettext and pytest-runner in
    # propagatedNativeBuildInputs, even for the wheel. stdenv records propagated inputs in
    # $out/nix-support, which makes them runtime references: gettext (and the bash its
    # scripts use) would land in the image. Django needs neither at run time.
    django = prev.django.overridePythonAttrs (_old: {
      propagatedNativeBuildInputs = [ ];
    });
  }
)
