"""The registry service: UN networks on migration at country and regional level, and champion countries."""
