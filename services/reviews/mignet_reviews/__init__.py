"""The reviews service: regional reviews of the GCM, contributions to them, their moderation and public pages."""
