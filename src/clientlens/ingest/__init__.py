"""clientlens.ingest"""
