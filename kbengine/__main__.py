from kbengine.cli import main

main()
