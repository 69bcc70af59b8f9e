# The OCI image: `nix build .#image && docker load < result` gives desideliver:<version>.
#
# No shell, no coreutils, no package manager at /bin, /usr/bin or on PATH: the only
# program at the image's root is /bin/desideliver, a compiled (makeBinaryWrapper) launcher
# for `python3.12 -P -m desideliver` from the app's Python environment. The app's runtime
# closure under /nix/store still holds a bash (nixpkgs' CPython references it); the image
# check (nix/check_image.py) reports it with the ten largest store paths.
{
  pkgs,
  # nix/image-contents.nix: the launcher, /etc's user files and the CA bundle.
  contents,
  static,
  version,
  revision,
  source,
  description,
  license,
}:
pkgs.dockerTools.buildLayeredImage {
  name = "desideliver";
  # Fixed, so `docker load` yields desideliver:<version> for compose.
  tag = version;
  # `created` keeps its default (1970-01-01T00:00:01Z): a fixed date, for reproducibility.

  inherit contents;

  # Runs in the customisation layer's root: relative paths only.
  extraCommands = ''
    mkdir -p tmp
    chmod 1777 tmp
  '';
  # The media volume's mount point, owned by the app's user: Docker gives a fresh named volume
  # the ownership of the directory it is mounted over (compose.yaml's media_data).
  fakeRootCommands = ''
    mkdir -p var/lib/desideliver/media
    chown 10001:10001 var/lib/desideliver/media
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
