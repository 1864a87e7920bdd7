"""clientlens.features"""
