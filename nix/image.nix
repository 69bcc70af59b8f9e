# The OCI image: `nix build .#image && docker load < result` gives desideliver:<version>.
#
# No shell, no coreutils, no package manager at /bin, /usr/bin or on PATH: the only
# program at the image's root is /bin/desideliver, a compiled (makeBinaryWrapper) launcher
# for `python3.12 -P -m desideliver` from the app's Python environment. The app's runtime
# closure under /nix/store still holds a bash (nixpkgs' CPython references it); the image
# check (nix/check_image.py) reports it with the ten largest store paths.
{
  pkgs,
  app,
  static,
  version,
  revision,
  source,
  description,
  license,
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
pkgs.dockerTools.buildLayeredImage {
  name = "desideliver";
  # Fixed, so `docker load` yields desideliver:<version> for compose.
  tag = version;
  # `created` keeps its default (1970-01-01T00:00:01Z): a fixed date, for reproducibility.

  contents = [
    launcher
    nss
    pkgs.dockerTools.caCertificates
  ];

  # Runs in the customisation layer's root: relative paths only.
  extraCommands = ''
    mkdir -p tmp
    chmod 1777 tmp
  '';

  config = {
    # Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
    User = "10001:10001";
    Entrypoint = [ "/bin/desideliver" ];
    Cmd = [ "serve" ];
    WorkingDir = "/var/empty";
    Env = [
      "PATH=/bin"
      "DJANGO_SETTINGS_MODULE=desideliver.settings.production"
      "STATIC_ROOT=${static}"
      "PYTHONUNBUFFERED=1"
      "PYTHONDONTWRITEBYTECODE=1"
      "PORT=8000"
      "PSYCOPG_IMPL=c"
      "SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt"
    ];
    ExposedPorts = {
      "8000/tcp" = { };
    };
    Labels = {
      "org.opencontainers.image.title" = "desideliver";
      "org.opencontainers.image.description" = description;
      "org.opencontainers.image.version" = version;
      "org.opencontainers.image.source" = source;
      "org.opencontainers.image.licenses" = license;
      "org.opencontainers.image.revision" = revision;
    };
  };
}
