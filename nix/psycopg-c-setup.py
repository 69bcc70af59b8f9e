# Copied into psycopg-c's sdist by nix/psycopg-c-patch.sh (postPatch): declares the extensions that
# psycopg-c 3.3 lists under [[tool.setuptools.ext-modules]] in pyproject.toml, which the
# setuptools of our nixpkgs pin does not understand. The build_ext command class declared
# in its pyproject.toml still adds libpq (pg_config --includedir/--libdir).
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "psycopg_c._psycopg",
            ["psycopg_c/_psycopg.c", "psycopg_c/types/numutils.c"],
        ),
        Extension("psycopg_c.pq", ["psycopg_c/pq.c"]),
    ]
)
