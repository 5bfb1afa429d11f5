"""The ground floor: the spec, the seam an assignment plugs into (assignment, contract,
catalog), the cases, the tolerances and the expected values.  It imports no other
folder of the grader.
"""
