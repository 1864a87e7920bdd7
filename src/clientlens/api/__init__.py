"""clientlens.api"""
