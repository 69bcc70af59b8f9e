# The reverse proxy's OCI image: `nix build .#proxy-image && docker load < result` gives
# desideliver-proxy:<version>.
#
# nginx from our nixpkgs runs nix/proxy/nginx.conf, unchanged (the same file the tests run under
# Debian's nginx), from a prefix directory built here; the file's header lists what the prefix
# holds. /static/ is served from the same static derivation as the app image (one build, two
# images). No shell: the image's root holds /bin/proxy-healthcheck (curl, compiled-wrapped to
# ask nginx's own /proxy-health) and the NSS files; nginx is started by its store path.
{
  pkgs,
  static,
  version,
  revision,
  source,
  license,
}:
let
  inherit (pkgs) lib;

  # The embedded-Perl module (generic.nix: withPerl ? true) would pull perl into the closure;
  # nothing here needs it. If nixpkgs' top-level nginx already disables it, this is the same
  # derivation (and the same binary-cache hit).
  nginx = pkgs.nginx.override { withPerl = false; };

  # MEDIA_ROOT in the stack: the media_data volume, mounted read-only here.
  mediaRoot = "/var/lib/desideliver/media";
  # Unprivileged: the container runs as a non-root user without capabilities.
  port = 8080;
  # The compose service and its port (nix/proxy/nginx.conf proxies everything else to it).
  upstream = "web:8000";
  # Where a deployment behind a load balancer mounts its trusted-edge.d files (nginx.conf's
  # header): absent in compose, where this proxy is the edge; nginx's glob then matches nothing.
  trustedEdgeDir = "/etc/desideliver-proxy/trusted-edge.d";

  prefix = pkgs.runCommand "desideliver-proxy-prefix-${version}" { } ''
    mkdir -p $out
    cp ${./proxy/nginx.conf} $out/nginx.conf
    ln -s ${nginx}/conf/mime.types $out/mime.types
    echo 'upstream desideliver_web { server ${upstream}; }' > $out/upstream.conf
    echo 'listen ${toString port};' > $out/listen.conf
    ln -s ${static} $out/static
    ln -s ${mediaRoot} $out/media
    ln -s /tmp $out/tmp
    ln -s ${trustedEdgeDir} $out/trusted-edge.d
  '';

  # The container's healthcheck without a shell: a compiled wrapper (makeBinaryWrapper, as in
  # nix/image.nix) running curl with fixed arguments. curlMinimal is the build-time curl of
  # nixpkgs' fetchers, so it is in every binary cache; it shares openssl and zlib with nginx.
  healthcheck = pkgs.runCommand "desideliver-proxy-healthcheck-${version}" wrapperTools ''
    mkdir -p $out/bin
    makeWrapper ${lib.getBin pkgs.curlMinimal}/bin/curl $out/bin/proxy-healthcheck \
      --add-flags "--fail --silent --show-error --max-time 3 --output /dev/null" \
      --add-flags "http://127.0.0.1:${toString port}/proxy-health"
  '';
  wrapperTools = {
    nativeBuildInputs = [ pkgs.makeBinaryWrapper ];
  };

  # A user of its own in the app's group: it reads what web writes to the media volume (Django
  # writes files 0644, directories by umask) and can write nothing there (mounted read-only).
  nss = pkgs.fakeNss.override {
    extraPasswdLines = [ "proxy:x:10002:10001:desideliver proxy:/var/empty:/sbin/nologin" ];
    extraGroupLines = [ "app:x:10001:" ];
  };
in
pkgs.dockerTools.buildLayeredImage {
  name = "desideliver-proxy";
  tag = version;

  contents = [
    healthcheck
    nss
  ];

  # Runs in the customisation layer's root: relative paths only. No media directory: the
  # volume's owner and mode come from the app image, which mounts it first (writable).
  extraCommands = ''
    mkdir -p tmp
    chmod 1777 tmp
  '';

  # For inspection (and tests/nix): the nginx and the prefix directory the entrypoint names.
  passthru = {
    inherit nginx prefix;
  };

  config = {
    User = "10002:10001";
    # -p: the prefix above (pid file and buffers go to its tmp, /tmp); -e: errors to stderr
    # from the first line, before the configuration is read.
    Entrypoint = [
      "${nginx}/bin/nginx"
      "-p"
      "${prefix}/"
      "-c"
      "${prefix}/nginx.conf"
      "-e"
      "stderr"
    ];
    WorkingDir = "/var/empty";
    Env = [ "PATH=/bin" ];
    ExposedPorts = {
      "${toString port}/tcp" = { };
    };
    Labels = {
      "org.opencontainers.image.title" = "desideliver-proxy";
      "org.opencontainers.image.description" = "DesiDeliver's reverse proxy (nginx): static files, media, buffering";
      "org.opencontainers.image.version" = version;
      "org.opencontainers.image.source" = source;
      "org.opencontainers.image.licenses" = license;
      "org.opencontainers.image.revision" = revision;
    };
  };
}
