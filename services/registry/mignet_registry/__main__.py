from mignet_registry.app import main

main()
