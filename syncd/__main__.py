from syncd.cli.app import main

main()
