"""Support tickets: a customer's question (optionally about one of their orders) and the replies."""
