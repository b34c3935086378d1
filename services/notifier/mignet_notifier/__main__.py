from mignet_notifier.app import main

main()
