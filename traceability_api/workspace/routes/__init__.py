"""Workspace pages, one small module per screen."""
