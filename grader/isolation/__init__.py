"""Where student code runs: the sandbox, the launchers and the fork server's client, the
bounded reading of what a child sends, and inside/, the scripts run in the submission's
process (they import nothing of the grader).  It imports only grader.core.
"""
