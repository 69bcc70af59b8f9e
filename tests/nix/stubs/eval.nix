# Evaluates flake.nix's outputs with `nix-instantiate --eval` (no nixpkgs, no store builds) to
# check our own wiring: every attribute we use exists, and every function gets only the
# arguments its real definition accepts.
#
# Real: nixpkgs' lib (lib.fileset, lib.genAttrs, ...) and poetry2nix's own scope at the locked
# revision (default.nix: defaultPoetryOverrides and its extend, the formal arguments of
# mkPoetryApplication and mkPoetryEnv). Stand-ins, for what needs nixpkgs' package set:
# derivations (a name and the arguments they were made with), mkPoetryApplication and
# mkPoetryEnv themselves (they build Python package sets), and nixpkgs' functions whose formal
# arguments are copied here from their source: dockerTools (buildLayeredImage = { name,
# compressor ? "gz", ... }@args forwarding to streamLayeredImage, whose formals have no `...`),
# pkgs/by-name/fa/fakeNss, runCommand, mkShell. Used by tests/nix/test_flake.py.
{
  poetry2nixSrc,
  nixpkgsLibSrc,
}:
let
  flake = import ../../../flake.nix;
  lib = import (nixpkgsLibSrc + "/lib");
  lock = builtins.fromTOML (builtins.readFile ../../../poetry.lock);

  drv =
    name: attrs:
    attrs
    // {
      inherit name;
      type = "derivation";
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
    };

  mkPkgs = system: rec {
    inherit lib system;
    python312 = drv "python3.12" { version = "3.12.7"; };
    python3 = drv "python3" {
      withPackages = select: drv "python3-with-packages" { packages = select { packaging = drv "packaging" { }; }; };
    };
    postgresql = drv "postgresql-16" { dev = drv "postgresql-16-dev" { }; };
    postgresql_16 = postgresql;
    redis = drv "redis" { };
    wrk = drv "wrk" { };
    docker-compose = drv "docker-compose-2" { };
    poetry = drv "poetry-1.8" { };
    git = drv "git" { };
    gnumake = drv "gnumake" { };
    nixfmt-rfc-style = drv "nixfmt" { };
    makeBinaryWrapper = drv "make-binary-wrapper-hook" { };
    runCommand = name: env: script: drv name { inherit env script; };
    writeText = name: text: drv name { inherit text; };
    closureInfo = { rootPaths }: drv "closure-info" { inherit rootPaths; };
    mkShell =
      {
        packages ? [ ],
        shellHook ? "",
        ...
      }@args:
      drv "nix-shell" { inherit args; };
    fakeNss = drv "fake-nss" {
      override =
        {
          extraPasswdLines ? [ ],
          extraGroupLines ? [ ],
        }:
        drv "fake-nss" { inherit extraPasswdLines extraGroupLines; };
    };
    dockerTools = rec {
      caCertificates = drv "ca-certificates" { };
      streamLayeredImage =
        {
          name,
          tag ? null,
          fromImage ? null,
          contents ? [ ],
          config ? { },
          architecture ? "amd64",
          created ? "1970-01-01T00:00:01Z",
          uid ? 0,
          gid ? 0,
          uname ? "root",
          gname ? "root",
          maxLayers ? 100,
          extraCommands ? "",
          fakeRootCommands ? "",
          enableFakechroot ? false,
          includeStorePaths ? true,
          passthru ? { },
        }@args:
        drv "stream-${name}" { inherit args; };
      buildLayeredImage =
        {
          name,
          compressor ? "gz",
          ...
        }@args:
        let
          stream = streamLayeredImage (builtins.removeAttrs args [ "compressor" ]);
        in
        drv "${name}.tar.gz" { inherit (stream) args; };
    };
    # For poetry2nix's default.nix (lib.makeScope pkgs.newScope).
    newScope = extra: lib.callPackageWith (mkPkgs system // extra);
  };

  # poetry2nix's real scope, with stand-ins for the two functions that build package sets.
  # Each stand-in accepts exactly the arguments the real one does: mkPoetryEnv has no `...`
  # (an unknown argument is an error), mkPoetryApplication has (the rest reaches
  # buildPythonPackage).
  mkPoetry2Nix =
    { pkgs }:
    let
      real = import (poetry2nixSrc + "/default.nix") { inherit pkgs lib; };
      accepts =
        function: args:
        let
          unknown = lib.subtractLists (builtins.attrNames (builtins.functionArgs function)) (
            builtins.attrNames args
          );
        in
        lib.assertMsg (unknown == [ ]) "unknown arguments: ${toString unknown}";
    in
    real
    // {
      mkPoetryApplication =
        args:
        let
          app = drv "desideliver-0.1.0" {
            inherit args;
            version = "0.1.0";
            dependencyEnv = env;
            inherit python;
          };
          env = drv "python3.12-env" { interpreter = "${env.outPath}/bin/python3.12"; };
          python = drv "python3.12" {
            version = "3.12.7";
            pkgs = lib.listToAttrs (
              map (locked: {
                inherit (locked) name;
                value = drv "python3.12-${locked.name}-${locked.version}" {
                  src = drv (builtins.head locked.files).file { inherit (builtins.head locked.files) file; };
                };
              }) lock.package
            );
          };
        in
        app;
      mkPoetryEnv = args: assert accepts real.mkPoetryEnv args; drv "python3.12-dev-env" { inherit args; };
    };

  systems = import ./systems.nix;
  outputs = flake.outputs {
    self = {
      outPath = "/nix/store/11111111111111111111111111111111-source";
      rev = "0123456789abcdef0123456789abcdef01234567";
    };
    nixpkgs = {
      inherit lib;
      legacyPackages = lib.genAttrs systems mkPkgs;
    };
    systems = {
      outPath = ./systems.nix;
    };
    poetry2nix = {
      lib = { inherit mkPoetry2Nix; };
    };
  };
  linux = "x86_64-linux";
  app = outputs.packages.${linux}.desideliver;
  image = outputs.packages.${linux}.image;
  sbom = outputs.packages.${linux}.sbom;
  devEnv = outputs.devShells.${linux}.default.args.packages;
in
{
  systems = builtins.attrNames outputs.packages;
  packages = builtins.mapAttrs (_: builtins.attrNames) outputs.packages;
  checks = builtins.mapAttrs (_: builtins.attrNames) outputs.checks;
  devShells = builtins.mapAttrs (_: builtins.attrNames) outputs.devShells;
  formatter = builtins.mapAttrs (_: f: f.name) outputs.formatter;
  app = {
    inherit (app.args)
      preferWheels
      doCheck
      checkGroups
      postPatch
      postInstall
      ;
    python = app.args.python.name;
    # The same store path as nix/source.nix gives; not the whole repository (self).
    projectDir = "${app.args.projectDir}";
    src = "${app.args.src}";
    overridesCompose = app.args.overrides ? extend && app.args.overrides ? __functor;
  };
  devEnvProjectDir = "${(builtins.head devEnv).args.projectDir}";
  source = "${import ../../../nix/source.nix { inherit lib; }}";
  static = outputs.packages.${linux}.static.env;
  staticScript = outputs.packages.${linux}.static.script;
  image = {
    inherit (image.args) name tag extraCommands;
    config = image.args.config;
    contents = map (c: c.name) image.args.contents;
    passwd = (builtins.elemAt image.args.contents 1).extraPasswdLines;
    group = (builtins.elemAt image.args.contents 1).extraGroupLines;
    launcher = (builtins.elemAt image.args.contents 0).script;
    created = image.args.created or "default";
  };
  shell = {
    packages = map (p: p.name) outputs.devShells.${linux}.default.args.packages;
    inherit (outputs.devShells.${linux}.default.args) shellHook;
  };
  pytestScript = outputs.checks.${linux}.pytest.script;
  sbom = {
    inherit (sbom) name script;
    inherit (sbom.env.passthru) files;
    closureRoots = map (root: root.name) sbom.env.passthru.closure.rootPaths;
    imageContents = map (c: c.name) image.args.contents;
    staticName = outputs.packages.${linux}.static.name;
    lockedFiles = lib.listToAttrs (
      map (locked: {
        inherit (locked) name;
        value = map (f: f.file) locked.files;
      }) lock.package
    );
  };
}
