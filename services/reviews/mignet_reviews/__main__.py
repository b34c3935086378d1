from mignet_reviews.app import main

main()
