"""mignet's published, versioned contracts: events, commands, queries, reference data."""
