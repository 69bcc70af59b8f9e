# A postInstall snippet: keep one bytecode level. pypaInstallHook runs `python -m installer`,
# whose default writes bytecode for optimisation levels 0 and 1 (installer's __main__.py:
# "default=0, 1"). The image runs python without -O, so it only ever reads level 0.
''
  find "$out" -name '*.opt-1.pyc' -delete
''
