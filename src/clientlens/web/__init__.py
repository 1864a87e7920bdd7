"""clientlens.web"""
