"""Numbered SQL migrations, shipped as package data so an installed copy finds them."""
