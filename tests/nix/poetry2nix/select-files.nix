# Which file of poetry.lock poetry2nix picks for every locked package on one system, computed
# by poetry2nix's own code: its real mk-poetry-dep.nix, lib.nix and vendored pyproject.nix
# (wheel-name parsing, PEP 600/656 platform checks, PEP 508 markers), nixpkgs' real `lib`
# (lib.systems.elaborate), reached through our real overrides (nix/overrides.nix) composed onto
# poetry2nix's real defaultPoetryOverrides, exactly as mkPoetryPackages' baseOverlay calls
# `final.mkPoetryDep`.
#
# Stand-ins, only for what needs nixpkgs' package set (not available here): derivations and
# build machinery (buildPythonPackage returns its arguments, fetchers return the file they would
# fetch, hooks and manylinux libraries are names), and the interpreter's metadata that
# pyproject.nix reads (CPython 3.12.7 and glibc 2.40, nixpkgs' at our pin; Darwin SDK versions
# come from the real lib.systems.elaborate). Used by tests/nix/test_poetry2nix_files.py.
{
  poetry2nixSrc,
  nixpkgsLibSrc,
  system,
}:
let
  lib = import (nixpkgsLibSrc + "/lib");
  platform = lib.systems.elaborate system;
  root = ../../..;

  # What a derivation would be: its name.
  stub = name: "stub:${name}";

  libc =
    if platform.isLinux then
      {
        pname = "glibc";
        version = "2.40";
        linuxHeaders.version = "6.10";
      }
    else
      {
        pname = "libSystem";
        version = "11.0";
      };

  hooks = {
    poetry2nixFixupHook = stub "poetry2nixFixupHook";
    poetry2nixPythonRequiresPatchHook = stub "poetry2nixPythonRequiresPatchHook";
    removePathDependenciesHook = stub "removePathDependenciesHook";
    removeGitDependenciesHook = stub "removeGitDependenciesHook";
    removeWheelUrlDependenciesHook = stub "removeWheelUrlDependenciesHook";
    pipBuildHook = stub "pipBuildHook";
  };

  # The attributes of nixpkgs' python312 that poetry2nix and pyproject.nix read.
  python = {
    pname = "python3";
    version = "3.12.7";
    pythonVersion = "3.12";
    sitePackages = "lib/python3.12/site-packages";
    passthru = {
      implementation = "cpython";
      pythonVersion = "3.12";
      sourceVersion = {
        major = "3";
        minor = "12";
        patch = "7";
        suffix = "";
      };
    };
    stdenv = {
      targetPlatform = platform;
      hostPlatform = platform;
      cc.libc = libc;
    };
    pythonAttr = "python312";
    meta.platforms = lib.platforms.all;
    # mk-poetry-dep.nix: `python.pkgs.callPackage ./hooks { }`.
    pkgs.callPackage = _path: _args: hooks;
  };

  # nixpkgs' python312, whose own package set poetry2nix's overrides take their bootstrap
  # packages (packaging, wheel, ...) from.
  pkgs = {
    inherit lib python;
    python3 = python;
    python312 = python // {
      pythonOnBuildForHost.pkgs = lib.genAttrs bootstrapPackages (
        pname: package { inherit pname; } // { override = _: package { inherit pname; }; }
      );
    };
    stdenv = python.stdenv;
    pythonManylinuxPackages = {
      manylinux1 = stub "manylinux1";
      manylinux2010 = stub "manylinux2010";
      manylinux2014 = stub "manylinux2014";
    };
    newScope = extra: lib.callPackageWith (pkgs // extra);
  };

  pyproject-nix = import (poetry2nixSrc + "/vendor/pyproject.nix") { inherit lib; };
  poetryLib = import (poetry2nixSrc + "/lib.nix") {
    inherit lib pkgs pyproject-nix;
    inherit (pkgs) stdenv;
  };
  poetry2nix = import (poetry2nixSrc + "/default.nix") { inherit pkgs lib; };

  # A Python package as nixpkgs' buildPythonPackage makes it, minus the derivation: its
  # arguments, and overridePythonAttrs merging a function's result into them.
  package = attrs: attrs // { overridePythonAttrs = f: package (attrs // f attrs); };

  # As poetry2nix's default.nix builds it: `final.callPackage ./mk-poetry-dep.nix { inherit lib
  # python poetryLib pep508Env pyVersion pyproject-nix; }`; callPackage fills in the rest.
  mkPoetryDep = import (poetry2nixSrc + "/mk-poetry-dep.nix") {
    inherit
      lib
      python
      poetryLib
      pyproject-nix
      ;
    pep508Env = pyproject-nix.lib.pep508.mkEnviron python;
    pyVersion = pyproject-nix.lib.pep440.parseVersion python.version;
    autoPatchelfHook = stub "autoPatchelfHook";
    buildPythonPackage = package;
    fetchFromPypi = lib.makeOverridable ({ file, ... }: { inherit file; });
    fetchPypiLegacy = lib.makeOverridable ({ file, ... }: { inherit file; });
  };

  bootstrapPackages = [
    "installer"
    "build"
    "flit-core"
    "packaging"
    "tomli"
    "pyproject-hooks"
    "wheel"
    "cython"
    "cython_0"
  ];

  lock = builtins.fromTOML (builtins.readFile (root + "/poetry.lock"));
  normalize = pyproject-nix.lib.pypa.normalizePackageName;

  # baseOverlay's call (default.nix), for one package of the lock.
  lockPackage =
    final: pkgMeta:
    final.mkPoetryDep (
      pkgMeta
      // {
        pwd = root;
        preferWheels = true;
        source = pkgMeta.source or null;
        inherit (pkgMeta) files;
        pythonPackages = final;
        sourceSpec = { };
      }
    );

  # The python package set: nixpkgs' (the few packages poetry2nix's overrides add, as
  # stand-ins), poetry2nix's layer of the lock's packages, then the user's overrides, whose
  # mkPoetryDep the lock's packages are built with.
  nixpkgsPythonPackages = {
    inherit python mkPoetryDep;
    isPy27 = false;
    isPy3k = true;
    callPackage = fn: args: fn args;
    wheelUnpackHook = stub "wheelUnpackHook";
    pypaInstallHook = stub "pypaInstallHook";
  }
  // lib.genAttrs [ "setuptools" "importlib-resources" "pytest-runner" ] (pname: package { inherit pname; });
  # poetry2nix applies an overrides attrset by its __functor (default.nix, getFunctorFn).
  overrides =
    (import (root + "/nix/overrides.nix") {
      inherit poetry2nix lib;
    }).__functor;
  final = lib.fix (
    self:
    let
      prev =
        nixpkgsPythonPackages
        // builtins.listToAttrs (
          map (p: {
            name = normalize p.name;
            value = lockPackage self p;
          }) lock.package
        );
    in
    prev // overrides self prev
  );

  # What mk-poetry-dep.nix, called through our mkPoetryDep, makes of each package.
  select = pkgMeta: {
    name = normalize pkgMeta.name;
    value =
      let
        drv = lockPackage final pkgMeta;
      in
      {
        inherit (drv.src) file;
        inherit (drv) format nativeBuildInputs postInstall;
        # stdenv flattens nested input lists.
        dependencies = map lib.getName (lib.flatten drv.propagatedBuildInputs);
      };
  };

  # After poetry2nix's default overrides and ours, for the packages ours change.
  runtimeDependencies = name: map lib.getName (lib.flatten final.${name}.propagatedBuildInputs);
in
{
  packages = builtins.listToAttrs (map select lock.package);
  overridden = {
    gunicorn = runtimeDependencies "gunicorn";
    jsonschema = runtimeDependencies "jsonschema";
    django = {
      inherit (final.django) postInstall propagatedNativeBuildInputs;
    };
    psycopg-c = {
      inherit (final.psycopg-c) postPatch postInstall;
    };
  };
}
