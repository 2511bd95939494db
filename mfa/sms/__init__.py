outbox: list = []
