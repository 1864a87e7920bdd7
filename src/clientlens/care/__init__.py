"""clientlens.care"""
