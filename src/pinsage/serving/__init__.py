"""What is served: embedding tables, the faiss index over them, and new items embedded inductively."""
