"""`python -m bot.cli`: the same command line as the `customers-bot` script."""

from bot.cli import main

main()
