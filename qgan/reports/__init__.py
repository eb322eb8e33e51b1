"""Markdown reports rendered from run directories and profiles."""
