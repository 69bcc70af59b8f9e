# Static files, collected at build time with the production settings.
#
# The variables below exist only inside this build's sandbox so that the production settings
# import; none of them is referenced by the output, so none reaches the image (the image
# gets the real values from its environment at run time). collectstatic opens no database
# or Redis connection.
{
  pkgs,
  app,
}:
let
  env = app.dependencyEnv;
in
pkgs.runCommand "desideliver-static-${app.version}"
  {
    DJANGO_SETTINGS_MODULE = "desideliver.settings.production";
    SECRET_KEY = "collectstatic-build-only-not-a-secret-never-reaches-the-image";
    DATABASE_URL = "postgres://build@localhost/build";
    REDIS_URL = "redis://localhost:6379/0";
    ALLOWED_HOSTS = "localhost";
    PYTHONDONTWRITEBYTECODE = "1";
  }
  ''
    export STATIC_ROOT=$out
    ${env.interpreter} -P -m desideliver manage collectstatic --noinput

    # Django writes staticfiles.json in directory-listing order, which differs between
    # file systems. Rewrite it with sorted keys so the output is byte-reproducible; the
    # manifest's own "hash" field is already computed over sorted items.
    ${env.interpreter} -P - <<'PY'
    import json, os
    path = os.path.join(os.environ["out"], "staticfiles.json")
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
        with open(path, "w") as f:
            json.dump(data, f, sort_keys=True)
    PY
  ''
