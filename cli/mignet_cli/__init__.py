"""`mignet`: the operator command line."""
