"""``python -m clientlens``: the same command line as ``clientlens``."""

from clientlens.cli.main import run

if __name__ == "__main__":
    run()
