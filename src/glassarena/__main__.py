from glassarena.cli import main

main()
