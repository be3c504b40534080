"""A/B tests of policies: recorded assignments and the comparison report (issue 18)."""
