"""The notifier service: subscriptions to mignet's events, delivered by signed webhooks and e-mail."""
