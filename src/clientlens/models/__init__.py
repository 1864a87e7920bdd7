"""clientlens.models"""
