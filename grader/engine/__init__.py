"""Grading one submission: discover, load, execute, compare, diagnose, judge the rules,
score, free-form runs, the cache and the pipeline that writes the order once.
It imports grader.core and grader.isolation.
"""
