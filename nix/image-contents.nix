# What the image is made of (nix/image.nix's `contents`), and so what its SBOM's closure starts
# from (nix/sbom.nix): the launcher, /etc's user files and the CA bundle. The app's Python
# environment and everything else reach the image as their references.
{
  pkgs,
  app,
  version,
}:
let
  # All dependencies plus the app, as one Python environment (poetry2nix's dependencyEnv).
  env = app.dependencyEnv;

  # A compiled wrapper, not a bash script: with makeBinaryWrapper in nativeBuildInputs,
  # `makeWrapper` builds a small C program (as nixpkgs' python wrapper.nix does for
  # environments). argv[0] defaults to the wrapped interpreter, which is how the
  # environment's python finds its site-packages. -P: no working directory on sys.path.
  launcher = pkgs.runCommand "desideliver-launcher-${version}" wrapperTools ''
    mkdir -p $out/bin
    makeWrapper ${env.interpreter} $out/bin/desideliver --add-flags "-P -m desideliver"
  '';
  wrapperTools = {
    nativeBuildInputs = [ pkgs.makeBinaryWrapper ];
  };

  # /etc/passwd, /etc/group, /etc/nsswitch.conf and /var/empty, with one app user.
  nss = pkgs.fakeNss.override {
    extraPasswdLines = [ "app:x:10001:10001:desideliver:/var/empty:/sbin/nologin" ];
    extraGroupLines = [ "app:x:10001:" ];
  };
in
[
  launcher
  nss
  pkgs.dockerTools.caCertificates
]
