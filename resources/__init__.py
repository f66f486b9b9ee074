"""Run-time resources (themes, icons, sounds) loaded through importlib.resources."""
