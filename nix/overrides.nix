# poetry2nix overrides shared by the package (nix/package.nix) and the dev environment
# (nix/dev-env.nix), one concern per overlay file.
#
# poetry2nix's default overrides first, then ours: `extend` (mkDefaultPoetryOverrides) composes
# each overlay after the ones before it, so ours see and replace what the defaults set.
{
  poetry2nix,
  lib,
  keepDjangoLocales ? false,
}:
lib.foldl' (overrides: overlay: overrides.extend overlay) poetry2nix.defaultPoetryOverrides [
  # Only the lock files poetry2nix's vendored wheel parser understands.
  (import ./wheel-filter.nix)
  # psycopg-c from its sdist.
  (import ./psycopg-c.nix)
  # Nothing at run time that the service never runs.
  (import ./runtime-trims.nix { inherit lib keepDjangoLocales; })
]
