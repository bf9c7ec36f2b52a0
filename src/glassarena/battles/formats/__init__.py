"""battles/formats"""
