"""The event-store and projection runtime shared by every mignet service."""
