"""Template banks for bench/memory_eval.py's LoCoMo-shaped synthetic chats (tuning and held-out)."""
