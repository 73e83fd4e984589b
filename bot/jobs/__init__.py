"""Work that happens without a request: delivering the outbox, and the scheduler that ticks it."""
