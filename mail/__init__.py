"""Mail channel: durable intake over SMTP and IMAP, and the outbox of mails we send."""
