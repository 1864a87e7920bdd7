"""Thin services the routes and pages call: they read the store and call the other layers."""
