"""`python -m desideliver` is the same command as the `desideliver` console script."""

from desideliver.cli import main

if __name__ == "__main__":
    main()
