# Evaluates flake.nix's outputs against stand-ins for nixpkgs and poetry2nix, so that
# `nix-instantiate --eval` (no nixpkgs, no store builds) can check our own wiring: every
# attribute we use exists, and every function gets only the arguments its real
# definition accepts. The stand-ins copy the formal arguments of the real functions:
#   poetry2nix ce2369db default.nix (mkPoetryApplication has `...`, mkPoetryEnv has not);
#   nixpkgs dockerTools (buildLayeredImage = { name, compressor ? "gz", ... }@args forwarding
#   to streamLayeredImage, whose formals have no `...`); pkgs/by-name/fa/fakeNss.
# Used by tests/nix/test_flake.py.
let
  flake = import ../../../flake.nix;

  lib = {
    optionalAttrs = cond: set: if cond then set else { };
    elem = builtins.elem;
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    getDev = drv: drv.dev or drv;
    getBin = drv: drv.bin or drv.out or drv;
  };

  drv = name: attrs: attrs // { inherit name; type = "derivation"; outPath = "/nix/store/00000000000000000000000000000000-${name}"; };

  mkPkgs = system: rec {
    inherit lib system;
    python312 = drv "python3.12" { version = "3.12.7"; };
    python3 = drv "python3" { };
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
    mkShell = { packages ? [ ], shellHook ? "", ... }@args: drv "nix-shell" { inherit args; };
    fakeNss = drv "fake-nss" {
      override = { extraPasswdLines ? [ ], extraGroupLines ? [ ] }:
        drv "fake-nss" { inherit extraPasswdLines extraGroupLines; };
    };
    dockerTools = rec {
      caCertificates = drv "ca-certificates" { };
      streamLayeredImage =
        { name, tag ? null, fromImage ? null, contents ? [ ], config ? { }, architecture ? "amd64",
          created ? "1970-01-01T00:00:01Z", uid ? 0, gid ? 0, uname ? "root", gname ? "root",
          maxLayers ? 100, extraCommands ? "", fakeRootCommands ? "", enableFakechroot ? false,
          includeStorePaths ? true, passthru ? { } }@args:
        drv "stream-${name}" { inherit args; };
      buildLayeredImage = { name, compressor ? "gz", ... }@args:
        let stream = streamLayeredImage (builtins.removeAttrs args [ "compressor" ]);
        in drv "${name}.tar.gz" { inherit (stream) args; };
    };
  };

  # poetry2nix's mkDefaultPoetryOverrides: `extend` composes each overlay after the previous
  # ones (default.nix; the defaults themselves are left out here).
  mkOverrides = overlays: {
    __functor = _: final: prev: builtins.foldl' (acc: o: acc // o final (prev // acc)) { } overlays;
    extend = overlay: mkOverrides (overlays ++ [ overlay ]);
  };

  mkPoetry2Nix = { pkgs }: {
    defaultPoetryOverrides = mkOverrides [ ];
    mkPoetryApplication =
      { projectDir ? null, src ? projectDir, pyproject ? projectDir + "/pyproject.toml",
        poetrylock ? projectDir + "/poetry.lock", overrides ? null, meta ? { }, python ? pkgs.python3,
        pwd ? projectDir, preferWheels ? false, groups ? [ "main" ], checkGroups ? [ "dev" ],
        extras ? [ "*" ], ... }@args:
      let
        app = drv "desideliver-0.1.0" { inherit args; version = "0.1.0"; dependencyEnv = env; };
        env = drv "python3.12-env" { interpreter = "${env.outPath}/bin/python3.12"; };
      in
      app;
    mkPoetryEnv =
      { projectDir ? null, pyproject ? projectDir + "/pyproject.toml",
        poetrylock ? projectDir + "/poetry.lock", overrides ? null, pwd ? projectDir,
        python ? pkgs.python3, preferWheels ? false, editablePackageSources ? { },
        extraPackages ? _ps: [ ], groups ? [ "main" "dev" ], checkGroups ? [ "dev" ],
        extras ? [ "*" ] }@args:
      drv "python3.12-dev-env" { inherit args; };
  };

  systems = import ./systems.nix;
  outputs = flake.outputs {
    self = { outPath = "/nix/store/11111111111111111111111111111111-source"; rev = "0123456789abcdef0123456789abcdef01234567"; };
    nixpkgs = { inherit lib; legacyPackages = lib.genAttrs systems mkPkgs; };
    systems = { outPath = ./systems.nix; };
    poetry2nix = { lib = { inherit mkPoetry2Nix; }; };
  };
  linux = "x86_64-linux";
  image = outputs.packages.${linux}.image;
  overlay = outputs.packages.${linux}.desideliver.args.overrides.__functor null;
  # nixpkgs' overridePythonAttrs merges the function's result into the package's arguments.
  pkgStub = attrs: attrs // { overridePythonAttrs = f: pkgStub (attrs // f attrs); };
  prevPkg = name: pkgStub { pname = name; };
  overridden = overlay { } { psycopg-c = prevPkg "psycopg-c"; django = prevPkg "django"; mkPoetryDep = args: args; };
in
{
  systems = builtins.attrNames outputs.packages;
  packages = builtins.mapAttrs (_: builtins.attrNames) outputs.packages;
  checks = builtins.mapAttrs (_: builtins.attrNames) outputs.checks;
  devShells = builtins.mapAttrs (_: builtins.attrNames) outputs.devShells;
  formatter = builtins.mapAttrs (_: f: f.name) outputs.formatter;
  app = {
    inherit (outputs.packages.${linux}.desideliver.args) preferWheels doCheck;
    python = outputs.packages.${linux}.desideliver.args.python.name;
    overridden = builtins.attrNames overridden;
    psycopgPostPatch = overridden.psycopg-c.postPatch;
  };
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
}
