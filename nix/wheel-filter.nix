# A poetry2nix overlay: mkPoetryDep gets only the lock's files that can matter to us and that
# the pyproject.nix vendored in poetry2nix (ce2369db, unmaintained) can parse.
#
# poetry.lock lists every file PyPI has for a version. mk-poetry-dep.nix parses and checks every
# wheel name of a package before it picks one, and aborts the whole evaluation on a tag it does
# not know: `manylinux_2_31_riscv64` (attribute 'riscv64' missing, pep600.nix: no riscv64 in its
# manylinux table; fixed upstream in pyproject.nix PR #359) and dotted ABI tags such as
# `cp315-abi3.abi3t` (assertion failed, pypa.nix; pyproject.nix issue #369). Neither can be
# fixed in poetry.lock, which stays as Poetry writes it.
#
# An allow-list, not a deny-list: the next `poetry lock` brings tags nobody has seen yet, and an
# unknown tag is then dropped instead of breaking `nix build`. Kept: sdists, and wheels whose
# every tag is one CPython 3.12 on x86_64/aarch64 Linux or Darwin can use. poetry2nix's
# baseOverlay calls `final.mkPoetryDep`, so this overlay reaches every locked package.
# Proved with poetry2nix's real code by tests/nix/test_poetry2nix_files.py.
_final: prev:
let
  inherit (builtins)
    all
    filter
    isString
    match
    split
    ;
  matches = pattern: string: match pattern string != null;
  dotted = string: filter isString (split "\\." string);

  isSdist = matches ".*\\.(tar\\.gz|zip)";
  wheelTags = match "[^-]+-[^-]+(-[0-9][^-]*)?-([^-]+)-([^-]+)-([^-]+)\\.whl";

  pythonTag = matches "(py|cp)[0-9]+";
  abiTag = matches "none|abi3|cp[0-9]+";
  arch = "(x86_64|aarch64)";
  platformTag =
    tag:
    tag == "any"
    || matches "manylinux(1|2010|2014)_${arch}" tag
    || matches "(many|musl)linux_[0-9]+_[0-9]+_${arch}" tag
    || matches "macosx_[0-9]+_[0-9]+_(x86_64|arm64|universal2)" tag;

  isUsableWheel =
    name:
    let
      tags = wheelTags name;
    in
    tags != null
    && all pythonTag (dotted (builtins.elemAt tags 1))
    && abiTag (builtins.elemAt tags 2)
    && all platformTag (dotted (builtins.elemAt tags 3));

  usable = file: isSdist file.file || isUsableWheel file.file;
in
{
  mkPoetryDep = args: prev.mkPoetryDep (args // { files = filter usable args.files; });
}
