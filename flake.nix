{
  description = "DesiDeliver: a Django REST API, packaged with poetry2nix as a reproducible, minimal, non-root OCI image";

  inputs = {
    # The nixpkgs revision poetry2nix's own CI tests against (its flake.lock at the pin
    # below). poetry2nix is unmaintained and breaks on newer nixpkgs: do not move this pin
    # without a reason written in README.md.
    nixpkgs.url = "github:NixOS/nixpkgs/75e28c029ef2605f9841e0baa335d70065fe7ae2";
    systems.url = "github:nix-systems/default";
    poetry2nix = {
      url = "github:nix-community/poetry2nix/ce2369db77f45688172384bbeb962bc6c2ea6f94";
      inputs.nixpkgs.follows = "nixpkgs";
      inputs.systems.follows = "systems";
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      systems,
      poetry2nix,
    }:
    let
      inherit (nixpkgs) lib;

      # x86_64-linux, aarch64-linux, x86_64-darwin, aarch64-darwin.
      allSystems = import systems;
      # The image is Linux-only.
      imageSystems = [
        "x86_64-linux"
        "aarch64-linux"
      ];

      pyproject = builtins.fromTOML (builtins.readFile ./pyproject.toml);
      inherit (pyproject.tool.poetry) version;

      # What the app is built from (pyproject.toml, poetry.lock, src/): editing anything else
      # rebuilds neither the app, nor the static files, nor the image's layers.
      appSource = import ./nix/source.nix { inherit lib; };

      # true keeps Django's translations for ~100 languages (about 15 MB more in the image).
      keepDjangoLocales = false;

      perSystem =
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          p2n = poetry2nix.lib.mkPoetry2Nix { inherit pkgs; };

          desideliver = import ./nix/package.nix {
            inherit pkgs keepDjangoLocales;
            poetry2nix = p2n;
            src = appSource;
          };
          static = import ./nix/static.nix {
            inherit pkgs;
            app = desideliver;
          };
          devEnv = import ./nix/dev-env.nix {
            inherit pkgs;
            poetry2nix = p2n;
            src = appSource;
          };
          imageContents = import ./nix/image-contents.nix {
            inherit pkgs version;
            app = desideliver;
          };
          image = import ./nix/image.nix {
            inherit pkgs version static;
            contents = imageContents;
            # The commit; for a dirty tree, newer Nix gives its commit with a "-dirty" suffix,
            # so an image built from uncommitted changes never claims a clean revision.
            revision = self.rev or self.dirtyRev or "unknown";
            source = pyproject.tool.poetry.repository;
            inherit (pyproject.tool.poetry) description license;
          };
          # CycloneDX JSON of the image's closure and its Python packages (docs/nix.md).
          sbom = import ./nix/sbom.nix {
            inherit pkgs static version system;
            app = desideliver;
            contents = imageContents;
            src = appSource;
          };
          hasImage = lib.elem system imageSystems;
          basePackages = {
            default = desideliver;
            inherit desideliver static;
          };
          # The checks need the whole repository (tests/, bench/, Makefile, the Nix files).
          checkArgs = {
            inherit pkgs devEnv;
            src = self;
          };
        in
        {
          packages = basePackages // lib.optionalAttrs hasImage { inherit image sbom; };

          devShell = import ./nix/shell.nix { inherit pkgs devEnv; };

          checks = import ./nix/checks.nix (checkArgs // lib.optionalAttrs hasImage { inherit image; });

          formatter = pkgs.nixfmt-rfc-style;
        };

      forAllSystems = f: lib.genAttrs allSystems (system: f (perSystem system));
    in
    {
      packages = forAllSystems (s: s.packages);
      devShells = forAllSystems (s: {
        default = s.devShell;
      });
      checks = forAllSystems (s: s.checks);
      formatter = forAllSystems (s: s.formatter);
    };
}
