"""What every SQS-fed consumer shares: settings, the event envelope, idempotency guards, batches."""
