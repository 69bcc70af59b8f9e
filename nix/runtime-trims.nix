# A poetry2nix overlay: keep out of the image what the service never runs. Each trim's saving
# is in docs/nix.md ("The size budget").
{
  lib,
  # Django ships ~15.7 MB of translations for ~100 languages; the API answers in English
  # (LANGUAGE_CODE = "en-us", no LocaleMiddleware). true keeps them all.
  keepDjangoLocales ? false,
}:
final: prev:
let
  named = names: drv: builtins.elem (lib.getName drv) names;

  # Removes the packages poetry2nix's default overrides add at run time, and fails the
  # evaluation once they no longer do (then this trim is obsolete: delete it). Flattened
  # first: the gunicorn override puts mk-poetry-dep.nix's buildInputs (a list holding the
  # manylinux libraries' list) there, which stdenv flattens too.
  withoutRuntimeDeps =
    package: names:
    prev.${package}.overridePythonAttrs (old: {
      propagatedBuildInputs =
        let
          inputs = lib.flatten old.propagatedBuildInputs;
        in
        assert lib.assertMsg (lib.any (named names) inputs)
          "nix/runtime-trims.nix: poetry2nix no longer adds ${toString names} to ${package}; remove this trim";
        lib.filter (drv: !named names drv) inputs;
    });
in
{
  # One bytecode level (nix/bytecode.nix) for every locked package: poetry2nix's baseOverlay
  # builds each with final.mkPoetryDep.
  mkPoetryDep =
    args:
    (prev.mkPoetryDep args).overridePythonAttrs (old: {
      postInstall = (old.postInstall or "") + import ./bytecode.nix;
    });

  # poetry2nix adds setuptools and packaging for gunicorn < 21 (pkg_resources); gunicorn 27
  # imports neither (packaging only with its gevent extra), and poetry.lock lists no dependency.
  gunicorn = withoutRuntimeDeps "gunicorn" [
    "setuptools"
    "packaging"
  ];

  # poetry2nix adds importlib-resources (from nixpkgs) to jsonschema for Python < 3.9;
  # Python 3.12's importlib.resources is what jsonschema 4.26 uses.
  jsonschema = withoutRuntimeDeps "jsonschema" [ "importlib-resources" ];

  django = prev.django.overridePythonAttrs (old: {
    # poetry2nix's django override propagates gettext and pytest-runner, even for the wheel.
    # stdenv records propagated inputs in $out/nix-support, which makes them runtime
    # references: gettext (and the bash its scripts use) would land in the image. Django
    # needs neither at run time.
    propagatedNativeBuildInputs = [ ];

    # Every locale/<language>/ directory of Django and its contrib apps except English (en and
    # en_*). Fails if the wheel's layout changes and (almost) none is found.
    postInstall =
      (old.postInstall or "")
      + lib.optionalString (!keepDjangoLocales) ''
        removed=0
        for dir in "$out"/${final.python.sitePackages}/django/conf/locale/*/ \
                   "$out"/${final.python.sitePackages}/django/contrib/*/locale/*/; do
          [ -d "$dir" ] || continue # an unmatched pattern
          case "$(basename "$dir")" in
            en | en_* | __pycache__) ;;
            *) rm -r "$dir"; removed=$((removed + 1)) ;;
          esac
        done
        if [ "$removed" -lt 100 ]; then
          echo "nix/runtime-trims.nix: only $removed Django locale directories found; has the wheel's layout changed?" >&2
          exit 1
        fi
      '';
  });
}
