"""Uploaded images: re-encoded by Pillow, stored through Django's default storage (settings/media.py)."""
