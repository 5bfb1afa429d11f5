"""Autograder for the 2-2-2 back-propagation homework."""
