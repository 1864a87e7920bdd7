"""clientlens.segments"""
