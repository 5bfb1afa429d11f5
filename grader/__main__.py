import sys

from grader.selfcheck import command_line

sys.exit(command_line())
