"""webdev"""
