"""`python -m src.cli ...` is `pocketquant ...`."""

from src.cli.main import main

main()
